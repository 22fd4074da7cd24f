// An agent's websocket (protocol v1, protocol/README.md): hello → welcome, replies, typing,
// and `sync` to read a conversation as the server stored it.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export class AgentSocket {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closed = null;
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w(frame));
    });
    ws.on('close', (code) => {
      this.closed = code;
    });
  }

  /** Connects with `Authorization: Bearer token` and says hello; resolves after `welcome`. */
  static async connect(serverUrl, token, timeout = 10_000) {
    const url = `${serverUrl.replace(/^http/, 'ws')}/ws/agent`;
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection to ${url} within ${timeout} ms`)), timeout);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`${url} refused the agent: HTTP ${res.statusCode}`));
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const agent = new AgentSocket(ws);
    const welcome = agent.next((f) => f.type === 'welcome', timeout);
    agent.send({ type: 'hello', v: 1 });
    agent.welcome = await welcome;
    return agent;
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  /** The next frame (from now on) that `pick` accepts; rejects on an error frame or timeout. */
  next(pick, timeout = 10_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching agent frame within ${timeout} ms`));
      }, timeout);
      const waiter = (frame) => {
        if (frame.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`agent socket error ${frame.code}: ${frame.message}`));
          return true;
        }
        if (!pick(frame)) return false;
        clearTimeout(timer);
        resolve(frame);
        return true;
      };
      this.waiters.push(waiter);
    });
  }

  /** Replies to the visitor; resolves with the stored seq. */
  async reply(conversationId, text) {
    const clientMsgId = randomUUID();
    const ack = this.next((f) => f.type === 'ack' && f.client_msg_id === clientMsgId);
    this.send({ type: 'reply', conversation_id: conversationId, client_msg_id: clientMsgId, text });
    return (await ack).seq;
  }

  typing(conversationId, on) {
    this.send({ type: 'typing', conversation_id: conversationId, on });
  }

  /** Every stored message of the conversation, in seq order. */
  async history(conversationId) {
    const answer = this.next((f) => f.type === 'history' && f.conversation_id === conversationId);
    this.send({ type: 'sync', conversation_id: conversationId, last_seq: 0 });
    return (await answer).messages;
  }

  close() {
    this.ws.close();
  }
}
