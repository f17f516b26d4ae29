/** /metrics after known traffic: every series parsed and checked by value. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonToGrpcRequest, startHarness, testConfigYaml, type Harness } from '../helpers/harness.js';
import { HMAC_SECRET, signJwt } from '../helpers/tokens.js';

/** Prometheus text → "name{labels}" → value. */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const subscribe = (user: string, channel: string, roles: string[]) =>
  JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', user, channel, meta: { roles } });

describe('metrics after known traffic', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(testConfigYaml());
  });
  after(() => h.stop());

  it('counts decisions, durations, cache tiers and in-flight requests exactly', async () => {
    await h.http('/centrifugo/subscribe', subscribe('56', 'chat:lobby', ['role:member']));
    await h.http('/centrifugo/subscribe', subscribe('56', 'chat:lobby', ['role:member']));
    await h.http('/centrifugo/subscribe', subscribe('57', 'secret:x', []));
    await h.call('Subscribe', jsonToGrpcRequest(subscribe('56', 'chat:lobby', ['role:member'])));
    const series = parse(await (await fetch(`${h.httpUrl}/metrics`)).text());
    const expect = (key: string, value: number) => assert.equal(series.get(key), value, key);
    expect('cpp_decisions_total{event="subscribe",decision="result",code=""}', 3);
    expect('cpp_decisions_total{event="subscribe",decision="error",code="403"}', 1);
    expect('cpp_request_duration_seconds_count{event="subscribe",transport="http",decision="result"}', 2);
    expect('cpp_request_duration_seconds_count{event="subscribe",transport="grpc",decision="result"}', 1);
    expect('cpp_request_duration_seconds_bucket{event="subscribe",transport="http",decision="error",le="+Inf"}', 1);
    expect('cpp_cache_requests_total{tier="memory",result="miss"}', 2);
    expect('cpp_cache_requests_total{tier="memory",result="hit"}', 2);
    expect('cpp_inflight_requests{transport="http"}', 0);
    expect(`cpp_policy_info{version="${h.app.policy.current().version}"}`, 1);
    expect('cpp_decision_log_lines_total{decision="deny"}', 1);
    assert.ok((series.get('process_cpu_user_seconds_total') ?? 0) > 0, 'Node process metrics are exported');
  });

  it('counts verified-token cache lookups: a repeated token is a memory hit, a new one a miss', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const connect = (sub: string) =>
      JSON.stringify({ client: 'c', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: signJwt({ alg: 'HS256', typ: 'JWT' }, { sub, exp }, { alg: 'HS256', secret: HMAC_SECRET }) } });
    const h2 = await startHarness(testConfigYaml(`auth: { jwt: { algorithms: [HS256], hmac_secret: "${HMAC_SECRET}" } }`));
    try {
      const repeated = connect('56');
      for (const body of [repeated, repeated, repeated, connect('57')]) assert.equal((await h2.http('/centrifugo/connect', body)).status, 200);
      const series = parse(await (await fetch(`${h2.httpUrl}/metrics`)).text());
      // First of the repeated token and the other token: misses (signature checked); the two repeats: hits.
      assert.equal(series.get('cpp_token_cache_requests_total{tier="memory",result="miss"}'), 2);
      assert.equal(series.get('cpp_token_cache_requests_total{tier="memory",result="hit"}'), 2);
      assert.equal(series.get('cpp_token_cache_requests_total{tier="redis",result="hit"}'), undefined, 'no Redis tier without Redis');
    } finally {
      await h2.stop();
    }
  });
});
