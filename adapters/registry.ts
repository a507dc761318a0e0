/** The one table of adapters. Adding a provider scheme is one import and one line here. */
import { createRegistry } from '../runtime/registry.ts';
import { httpAction } from './actions/http.ts';
import { auth0Auth } from './auth/auth0.ts';
import { clerkAuth } from './auth/clerk.ts';
import { jwtAuth } from './auth/jwt.ts';
import { supabaseAuth } from './auth/supabase.ts';
import { cloudinaryUploadEndpoint } from './endpoints/cloudinary-upload.ts';
import { posthogFlagsEndpoint } from './endpoints/posthog-flags.ts';
import { trackEndpoint } from './endpoints/track.ts';
import { mixpanelAction } from './actions/mixpanel.ts';
import { posthogAction } from './actions/posthog.ts';
import { resendAction } from './actions/resend.ts';
import { sendgridAction } from './actions/sendgrid.ts';
import { twilioSmsAction } from './actions/twilio.ts';
import { actionStep } from './steps/action.ts';
import { enqueueStep } from './steps/enqueue.ts';
import { sqlStep } from './steps/sql.ts';
import { basicVerifier } from './verifiers/basic.ts';
import { ed25519Verifier } from './verifiers/ed25519.ts';
import { echoHeaderHandshake } from './handshakes/echo-header.ts';
import { getChallengeHandshake } from './handshakes/get-challenge.ts';
import { headerChallengeHandshake } from './handshakes/header-challenge.ts';
import { headOkHandshake } from './handshakes/head-ok.ts';
import { hmacChallengeHandshake } from './handshakes/hmac-challenge.ts';
import { jsonChallengeHandshake } from './handshakes/json-challenge.ts';
import { recordTokenHandshake } from './handshakes/record-token.ts';
import { hmacVerifier } from './verifiers/hmac.ts';
import { jwsVerifier } from './verifiers/jws.ts';
import { paddleClassicVerifier } from './verifiers/paddle-classic.ts';
import { paddleVerifier } from './verifiers/paddle.ts';
import { sendgridVerifier } from './verifiers/sendgrid.ts';
import { standardWebhooksVerifier } from './verifiers/standard-webhooks.ts';
import { stripeVerifier } from './verifiers/stripe.ts';
import { svixVerifier } from './verifiers/svix.ts';
import { tokenVerifier } from './verifiers/token.ts';
import { twilioVerifier } from './verifiers/twilio.ts';

export const defaultRegistry = createRegistry({
  verifiers: [
    stripeVerifier,
    svixVerifier,
    standardWebhooksVerifier,
    paddleVerifier,
    paddleClassicVerifier,
    twilioVerifier,
    sendgridVerifier,
    hmacVerifier,
    tokenVerifier,
    basicVerifier,
    ed25519Verifier,
    jwsVerifier,
  ],
  steps: [sqlStep, enqueueStep, actionStep],
  actions: [resendAction, sendgridAction, twilioSmsAction, mixpanelAction, posthogAction, httpAction],
  auth: [clerkAuth, auth0Auth, supabaseAuth, jwtAuth],
  endpoints: [trackEndpoint, posthogFlagsEndpoint, cloudinaryUploadEndpoint],
  handshakes: [jsonChallengeHandshake, headerChallengeHandshake, hmacChallengeHandshake, getChallengeHandshake, echoHeaderHandshake, recordTokenHandshake, headOkHandshake],
});
