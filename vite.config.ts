import path from 'node:path';
import { defineConfig } from 'vite';

const apiTarget = process.env.WANGGE_API_URL ?? 'http://127.0.0.1:3000';

// The web app lives in web/ and is built into dist/web, which the server serves in production.
// `npm run dev` runs this dev server with hot reload and proxies API paths to the Fastify server.
export default defineConfig({
  root: path.resolve(import.meta.dirname, 'web'),
  publicDir: false,
  resolve: {
    alias: {
      '@contracts': path.resolve(import.meta.dirname, 'server/contracts'),
      '@geo': path.resolve(import.meta.dirname, 'server/geo'),
    },
  },
  build: {
    outDir: path.resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
    rolldownOptions: {
      output: {
        // MapLibre in a chunk of its own, so "initial JS" (the shell) is measurable apart from it
        // (scripts/bench/web.bench.ts reports both); views are split by their dynamic imports.
        codeSplitting: {
          groups: [
            { name: 'maplibre', test: /node_modules[\\/]maplibre-gl[\\/]/, priority: 20 },
            { name: 'terra-draw', test: /node_modules[\\/]terra-draw/, priority: 10 },
          ],
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(['/api', '/health', '/openapi.json', '/docs', '/tiles', '/ogc', '/open311'].map((p) => [p, apiTarget])),
  },
});
