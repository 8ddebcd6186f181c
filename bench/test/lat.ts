import { createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { EventStoreService, ConfigService } from '@k1s0/proto';
import { randomUUID } from 'node:crypto';
const token = process.env.TOKEN!;
const bearer: Interceptor = (next) => (req) => { req.header.set('authorization', `Bearer ${token}`); return next(req); };
const es = createClient(EventStoreService, createGrpcTransport({ baseUrl: 'http://127.0.0.1:9090', interceptors: [bearer] }));
const cs = createClient(ConfigService, createGrpcTransport({ baseUrl: 'http://127.0.0.1:50051', interceptors: [bearer] }));
const payload = new TextEncoder().encode(JSON.stringify({ a: 1 }));
async function time(label: string, n: number, f: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 50; i++) await f(i);
  const ts: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(i); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(label, 'p50', ts[n >> 1]!.toFixed(2), 'p90', ts[Math.floor(n * 0.9)]!.toFixed(2));
}
const sid = `lat-${randomUUID()}`;
let v = 0n;
await time('grpc append seq', 500, async () => { const r = await es.appendEvents({ streamId: sid, expectedVersion: v, events: [{ eventType: 'X', payloadJson: payload }] }); v = r.currentVersion; });
await time('grpc append conflict', 500, async () => { try { await es.appendEvents({ streamId: sid, expectedVersion: 1n, events: [{ eventType: 'X', payloadJson: payload }] }); } catch {} });
await time('rest append seq', 500, async () => { const r = await fetch(`http://127.0.0.1:8099/api/v1/streams/${sid}/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ expected_version: Number(v), events: [{ event_type: 'X', payload: { a: 1 } }] }) }); const j: any = await r.json(); if (!r.ok) throw new Error(JSON.stringify(j)); v = BigInt(j.current_version); });
await time('grpc readEvents', 500, async () => { await es.readEvents({ streamId: sid, fromVersion: 1n, page: 1, pageSize: 1 }); });
await time('grpc getConfig', 500, async () => { try { await cs.getConfig({ namespace: 'system.x', key: 'k' }); } catch {} });
