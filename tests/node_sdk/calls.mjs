// The official `sendblue` npm SDK against a running bluewire server: each call below, and what it
// returned or the error it raised, printed as one JSON document on stdout for
// tests/integration/test_node_sdk.py to assert on.
//
//   BLUEWIRE_URL             the server's base URL, e.g. http://127.0.0.1:8000 (required)
//   BLUEWIRE_API_KEY_ID      the key pair's id, sent as sb-api-key-id (required)
//   BLUEWIRE_API_SECRET_KEY  its secret, sent as sb-api-secret-key (required)
//   BLUEWIRE_FROM_NUMBER     the line to send from (default: the first ONLINE line of getState)
//   BLUEWIRE_TO_NUMBER       the phone to send to (default: the sandbox phone +14155550100)
//
// Install the SDK first: npm ci --prefix tests/node_sdk
import SendblueAPI from 'sendblue';
import { VERSION } from 'sendblue/version';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
}

const client = new SendblueAPI({
  baseURL: required('BLUEWIRE_URL'),
  apiKey: required('BLUEWIRE_API_KEY_ID'),
  apiSecret: required('BLUEWIRE_API_SECRET_KEY'),
  maxRetries: 0,
  timeout: 20_000,
});

const calls = {};

// Run one SDK call and record what it returned (as JSON would carry it) or what it raised.
async function call(name, run) {
  try {
    const result = await run();
    calls[name] = { ok: true, result: result === undefined ? null : result };
    return result;
  } catch (error) {
    calls[name] = {
      ok: false,
      error: {
        name: error?.constructor?.name ?? typeof error,
        status: error?.status ?? null,
        message: String(error?.message ?? error),
      },
    };
    return undefined;
  }
}

const state = await call('lines.getState', () => client.lines.getState());
const online = (state?.data ?? []).find((line) => line.status === 'ONLINE');
const from = process.env.BLUEWIRE_FROM_NUMBER || online?.sendblue_number;
const to = process.env.BLUEWIRE_TO_NUMBER || '+14155550100';

const sent = await call('messages.send', () =>
  client.messages.send({ number: to, from_number: from, content: 'hello from the npm sdk' }),
);
const handle = sent?.message_handle;
if (handle) {
  // Follow it as a user would, until the phone read it (or it failed, or 15 seconds passed).
  const seen = [];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await call('messages.getStatus', () => client.messages.getStatus({ handle }));
    if (status?.status && seen.at(-1) !== status.status) seen.push(status.status);
    if (!status || ['READ', 'ERROR'].includes(status.status) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  calls['messages.getStatus'].statuses_seen = seen;
  await call('messages.retrieve', () => client.messages.retrieve(handle));
}
await call('messages.list', () => client.messages.list({ number: to, limit: 10 }));
await call('contacts.list', () => client.contacts.list());
await call('contacts.count', () => client.contacts.count());
await call('webhooks.list', () => client.webhooks.list());
await call('lookups.lookupNumber', () => client.lookups.lookupNumber({ number: to }));

process.stdout.write(JSON.stringify({ sdk_version: VERSION, from_number: from ?? null, to_number: to, calls }) + '\n');
