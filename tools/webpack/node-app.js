// Every module app bundles alike: one Node.js bundle with its source map and a package.json of what it imports, in
// dist/apps/<app>. Each app's webpack.config.js calls this (the Nx webpack plugin infers `build` from that file).
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { basename, join } = require('node:path');

/**
 * The config of the app in `appDir` (its webpack.config.js's __dirname); `assets` and `additionalEntryPoints` (bundles
 * beside main.js, e.g. a worker thread's script) as NxAppWebpackPlugin takes them.
 */
module.exports = function nodeAppConfig(appDir, { assets, additionalEntryPoints } = {}) {
  return {
    output: { path: join(__dirname, '../../dist/apps', basename(appDir)) },
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
        // Only when given: the plugin reads an explicit undefined as a list and fails.
        ...(assets && { assets }),
        ...(additionalEntryPoints && { additionalEntryPoints }),
      }),
    ],
  };
};
