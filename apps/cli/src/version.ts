/** Replaced at build time from package.json (see tsup.config.mjs); `dev` when run from source. */
declare const __BASTION_VERSION__: string | undefined;
export const VERSION: string = typeof __BASTION_VERSION__ === 'string' ? __BASTION_VERSION__ : '0.0.0-dev';
