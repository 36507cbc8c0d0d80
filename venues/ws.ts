import WebSocket from 'ws';

/** Closes a socket normally and resolves once it is closed (at once if there is none or it already is). */
export async function closeSocket(ws: WebSocket | undefined): Promise<void> {
  if (!ws || ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000);
  });
}
