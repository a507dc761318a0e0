/** The one table of adapters (CLI, tests). Adding a provider scheme is one import and one line here. */
import { createRegistry } from '../runtime/component/registry.ts';
import { httpAction } from '../adapters/actions/http.ts';
import { forwardAction } from '../adapters/actions/forward.ts';
import { auth0Auth } from '../adapters/auth/auth0.ts';
import { clerkAuth } from '../adapters/auth/clerk.ts';
import { jwtAuth } from '../adapters/auth/jwt.ts';
import { supabaseAuth } from '../adapters/auth/supabase.ts';
import { cloudinaryUploadEndpoint } from '../adapters/endpoints/cloudinary-upload.ts';
import { posthogFlagsEndpoint } from '../adapters/endpoints/posthog-flags.ts';
import { trackEndpoint } from '../adapters/endpoints/track.ts';
import { mixpanelAction } from '../adapters/actions/mixpanel.ts';
import { posthogAction } from '../adapters/actions/posthog.ts';
import { resendAction } from '../adapters/actions/resend.ts';
import { sendgridAction } from '../adapters/actions/sendgrid.ts';
import { twilioSmsAction } from '../adapters/actions/twilio.ts';
import { actionStep } from '../adapters/steps/action.ts';
import { enqueueStep } from '../adapters/steps/enqueue.ts';
import { sqlStep } from '../adapters/steps/sql.ts';
import { basicVerifier } from '../adapters/verifiers/basic.ts';
import { ed25519Verifier } from '../adapters/verifiers/ed25519.ts';
import { echoHeaderHandshake } from '../adapters/handshakes/echo-header.ts';
import { getChallengeHandshake } from '../adapters/handshakes/get-challenge.ts';
import { headerChallengeHandshake } from '../adapters/handshakes/header-challenge.ts';
import { headOkHandshake } from '../adapters/handshakes/head-ok.ts';
import { hmacChallengeHandshake } from '../adapters/handshakes/hmac-challenge.ts';
import { jsonChallengeHandshake } from '../adapters/handshakes/json-challenge.ts';
import { recordTokenHandshake } from '../adapters/handshakes/record-token.ts';
import { hmacVerifier } from '../adapters/verifiers/hmac.ts';
import { jwsVerifier } from '../adapters/verifiers/jws.ts';
import { paddleClassicVerifier } from '../adapters/verifiers/paddle-classic.ts';
import { paddleVerifier } from '../adapters/verifiers/paddle.ts';
import { sendgridVerifier } from '../adapters/verifiers/sendgrid.ts';
import { standardWebhooksVerifier } from '../adapters/verifiers/standard-webhooks.ts';
import { stripeVerifier } from '../adapters/verifiers/stripe.ts';
import { svixVerifier } from '../adapters/verifiers/svix.ts';
import { tokenVerifier } from '../adapters/verifiers/token.ts';
import { twilioVerifier } from '../adapters/verifiers/twilio.ts';

/**
 * Every adapter, by the name its module exports it as. The Worker imports none of these itself: `switchyard build`
 * writes `.switchyard/manifests.registry.ts`, which imports only the adapters the built manifests use.
 */
export const adapters = {
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
  sqlStep,
  enqueueStep,
  actionStep,
  resendAction,
  sendgridAction,
  twilioSmsAction,
  mixpanelAction,
  posthogAction,
  httpAction,
  forwardAction,
  clerkAuth,
  auth0Auth,
  supabaseAuth,
  jwtAuth,
  trackEndpoint,
  posthogFlagsEndpoint,
  cloudinaryUploadEndpoint,
  jsonChallengeHandshake,
  headerChallengeHandshake,
  hmacChallengeHandshake,
  getChallengeHandshake,
  echoHeaderHandshake,
  recordTokenHandshake,
  headOkHandshake,
};

export const defaultRegistry = createRegistry(Object.values(adapters));
