import path from 'node:path';
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Only because this example links the client from this repository
  // ("file:../../clients/js"): the bundler must be allowed to read files up
  // there. An app that installs @herald-notify/client from npm needs nothing.
  turbopack: { root: path.join(__dirname, '../..') },
  outputFileTracingRoot: path.join(__dirname, '../..'),
};

export default nextConfig;
