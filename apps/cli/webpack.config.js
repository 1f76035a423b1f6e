const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

module.exports = {
  output: { path: join(__dirname, '../../dist/apps/cli') },
  devtool: 'source-map',
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
      // ONNX Runtime runs on a worker thread from this script, which must sit beside main.js.
      assets: [{ input: 'libs/inference-backends/src/lib', glob: 'onnxruntime-worker.js', output: '.' }],
    }),
  ],
};
