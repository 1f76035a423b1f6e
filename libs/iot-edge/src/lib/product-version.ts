// eslint-disable-next-line @nx/enforce-module-boundaries -- the product's one version number lives in the root package.json
import packageJson from '../../../../package.json';

/** The product's version, reported in module twins and getStatus. */
export const PRODUCT_VERSION: string = packageJson.version;
