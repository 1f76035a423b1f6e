// A real browser for specs, apart from the index: its `it` wrapper needs jest's globals, and the cli's benchmarks use
// the index outside jest.
export { HeadlessChromium, INSTALLED_CHROMIUM, withChromium } from './lib/headless-chromium';
