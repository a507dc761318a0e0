/** Resend delivers through Svix: the svix library is the reference signer and verifier, as for catalog/svix.yaml. */
export { default } from './svix.ts';
