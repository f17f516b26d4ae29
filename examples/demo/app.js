// The demo page's script: connect with the token from the URL, join chat:demo and publish,
// try a channel the policy forbids and show the code it answers, call an RPC through a route.
// Each outcome becomes one line in #steps (data-step names it, for people and for the test).
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const endpoint = params.get('centrifugo') ?? `ws://${location.hostname}:8000/connection/websocket`;

const steps = document.getElementById('steps');
const status = document.getElementById('status');
const messages = document.getElementById('messages');

function step(name, outcome, text) {
  const line = document.createElement('li');
  line.dataset.step = name;
  line.className = outcome;
  line.textContent = text;
  steps.append(line);
}

function showMessage(data) {
  const item = document.createElement('li');
  item.textContent = `${data.from ?? '?'}: ${data.text}`;
  messages.append(item);
}

if (token === '') {
  status.textContent = 'no token in the URL: add ?token=… (npm run demo prints a ready link)';
} else {
  // In connect data, not the SDK's `token` option: Centrifugo verifies that one itself and never
  // asks the proxy (docs/centrifugo.md); the service reads data.token (auth.token_sources).
  const client = new Centrifuge(endpoint, { data: { token } });
  const user = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;

  client.on('connected', () => {
    status.className = 'connected';
    status.textContent = `connected as ${user}`;
    step('connect', 'ok', `connected to ${endpoint} as "${user}" (connect allowed)`);
    joinChat();
  });
  client.on('disconnected', (ctx) => {
    status.className = 'disconnected';
    status.textContent = `disconnected: ${ctx.code} ${ctx.reason}`;
    step('disconnect', 'refused', `disconnected: code ${ctx.code} "${ctx.reason}"`);
  });

  function joinChat() {
    const chat = client.newSubscription('chat:demo');
    chat.on('publication', (ctx) => {
      showMessage(ctx.data);
      if (ctx.data.first) step('receive', 'ok', `received our own message on chat:demo: "${ctx.data.text}"`);
    });
    chat.once('subscribed', async () => {
      step('subscribe', 'ok', 'subscribed to chat:demo (subscribe allowed)');
      try {
        await chat.publish({ from: user, text: 'hello from the demo page', first: true });
        step('publish', 'ok', 'published to chat:demo (publish allowed)');
      } catch (err) {
        step('publish', 'refused', `publish refused: ${err.code} ${err.message}`);
      }
      tryForbidden();
    });
    chat.on('error', (ctx) => step('subscribe-error', 'refused', `chat:demo: ${ctx.error.code} ${ctx.error.message}`));
    chat.subscribe();

    document.getElementById('publish').addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = document.getElementById('message');
      if (input.value.trim() === '') return;
      await chat.publish({ from: user, text: input.value }).catch((err) => step('publish', 'refused', `publish refused: ${err.code} ${err.message}`));
      input.value = '';
    });
  }

  // Another user's personal channel: the policy allows personal:{user} only for that user.
  function tryForbidden() {
    const channel = 'personal:someone-else';
    const other = client.newSubscription(channel);
    other.on('unsubscribed', (ctx) => {
      step('forbidden', 'refused', `${channel} refused: code ${ctx.code} "${ctx.reason}"`);
      client.removeSubscription(other);
      callRpc();
    });
    other.on('subscribed', () => {
      step('forbidden', 'ok', `${channel} was allowed (the policy should have refused it)`);
      callRpc();
    });
    other.subscribe();
  }

  async function callRpc() {
    try {
      const answer = await client.rpc('tasks.echo', { text: 'ping' });
      step('rpc', 'ok', `rpc tasks.echo answered: ${JSON.stringify(answer.data)}`);
    } catch (err) {
      step('rpc', 'refused', `rpc tasks.echo refused: ${err.code} ${err.message}`);
    }
  }

  client.connect();
}
