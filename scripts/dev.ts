/**
 * `npm run dev`: the API with reload on change (tsx watch) on PORT (default 3000) plus Vite's dev
 * server with hot reload on 5173, which proxies API paths to it. Open http://localhost:5173.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const apiPort = process.env.PORT ?? '3000';
const children: ChildProcess[] = [
  spawn('npx', ['tsx', 'watch', '--clear-screen=false', 'server/main.ts'], {
    stdio: 'inherit',
    env: { ...process.env, PORT: apiPort, WEB_DIST_DIR: '' },
  }),
  spawn('npx', ['vite'], { stdio: 'inherit', env: { ...process.env, WANGGE_API_URL: `http://127.0.0.1:${apiPort}` } }),
];

const stop = (): void => {
  for (const child of children) child.kill('SIGINT');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children) child.on('exit', (code) => { if (code) { stop(); process.exitCode = code; } });
