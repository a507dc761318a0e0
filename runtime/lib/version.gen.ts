/* Generated from package.json by `switchyard types`. Do not edit. */
/** switchyard's version (package.json). */
export const SWITCHYARD_VERSION = "0.1.0";
