// Starts local-aws-sqs on loopback for Herald's queue tests.
//
//   node server.mjs [port]        (port 0 or absent: a free port)
//
// Prints one line, "listening http://127.0.0.1:PORT", once the server
// accepts connections, and exits when its standard input closes, so that a
// test process that dies never leaves the server behind.
import { createSqsServer } from "local-aws-sqs";

const port = Number(process.argv[2] ?? 0);
const server = await createSqsServer({
  port,
  hostname: "127.0.0.1",
  emulateQueueCreationLifecycle: false,
});
if (!server.listening) {
  await new Promise((resolve) => server.once("listening", resolve));
}
console.log(`listening http://127.0.0.1:${server.address().port}`);

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
