// Starts fauxqs (an SQS, SNS and S3 emulator) on loopback for Herald's
// queue tests.
//
//   node server.mjs [port]        (port 0 or absent: a free port)
//
// Prints one line, "listening http://127.0.0.1:PORT", once the server
// accepts connections, and exits when its standard input closes, so that a
// test process that dies never leaves the server behind. It listens on
// 127.0.0.1 only (fauxqs' own startFauxqs binds every interface), keeps
// everything in memory, and logs nothing.
import { buildApp } from "fauxqs";

const port = Number(process.argv[2] ?? 0);
const app = buildApp({ logger: false });
const address = await app.listen({ port, host: "127.0.0.1" });
console.log(`listening ${address}`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
