// An independent HTTP/2 peer for node_h2_test.py, on Node's own http2 module (its nghttp2 is
// bundled with Node, not Debian's libnghttp2 parallax uses).
//
//   node node_h2_peer.js server
//       An h2c server on 127.0.0.1:0; prints {"port": N} once listening. GET /node/NAME answers
//       JSON {"hello": NAME, "protocol": ...} with a trailer x-checksum; POST /node/echo answers
//       the body's length and SHA-256 (as text/plain) after reading it whole; GET /node/stats
//       answers {"sessions": N}, the connections it accepted so far.
//   node node_h2_peer.js client URL [CA_FILE]
//       Through URL (http:// for h2c prior knowledge, https:// with ALPN h2): 20 concurrent GETs
//       on the one session first, a GET with trailers, a 2 MiB streamed POST, a GET of a path no
//       route takes, and the server's stats. Prints one JSON object with what it saw.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');

function server() {
  const srv = http2.createServer();
  let sessions = 0;
  srv.on('session', () => {
    sessions += 1;
  });
  srv.on('stream', (stream, headers) => {
    const path = headers[':path'];
    if (path === '/node/stats') {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ sessions }));
      return;
    }
    if (headers[':method'] === 'POST' && path === '/node/echo') {
      const hash = crypto.createHash('sha256');
      let length = 0;
      stream.on('data', (chunk) => {
        hash.update(chunk);
        length += chunk.length;
      });
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end(`${length} ${hash.digest('hex')}`);
      });
      return;
    }
    const name = path.split('/').pop();
    const body = JSON.stringify({ hello: name, protocol: 'h2' });
    stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => {
      stream.sendTrailers({ 'x-checksum': crypto.createHash('sha256').update(body).digest('hex') });
    });
    stream.end(body);
  });
  srv.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\n');
  });
}

// One request on `session`: resolves to {status, headers, trailers, body}.
function request(session, headers, body) {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const out = { status: 0, headers: {}, trailers: {}, body: '' };
    req.setEncoding('utf8');
    req.on('response', (h) => {
      out.status = h[':status'];
      out.headers = h;
    });
    req.on('trailers', (t) => {
      out.trailers = t;
    });
    req.on('data', (d) => {
      out.body += d;
    });
    req.on('end', () => resolve(out));
    req.on('error', reject);
    if (body !== undefined) {
      // Streamed in 64 KiB pieces, honouring back-pressure.
      let offset = 0;
      const pump = () => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + 65536);
          offset += piece.length;
          if (!req.write(piece)) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }
  });
}

async function client(url, caFile) {
  const options = caFile ? { ca: fs.readFileSync(caFile), servername: 'localhost' } : {};
  const session = http2.connect(url, options);
  session.on('error', (e) => {
    process.stderr.write(`session error: ${e}\n`);
    process.exit(1);
  });
  const result = {};
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    request(session, { ':method': 'GET', ':path': `/node/n${i}` })));
  result.concurrent = many.map((r) => JSON.parse(r.body).hello);
  result.alpn = session.alpnProtocol; // known once connected
  const get = await request(session, { ':method': 'GET', ':path': '/node/ann' });
  result.get = { status: get.status, body: get.body, trailers: get.trailers,
                 content_type: get.headers['content-type'] };
  const upload = crypto.randomBytes(2 * 1024 * 1024);
  const post = await request(session, { ':method': 'POST', ':path': '/node/echo' }, upload);
  result.post = { status: post.status, body: post.body,
                  expected: `${upload.length} ${crypto.createHash('sha256').update(upload).digest('hex')}` };
  const missing = await request(session, { ':method': 'GET', ':path': '/nowhere' });
  result.missing = missing.status;
  result.stats = JSON.parse((await request(session, { ':method': 'GET', ':path': '/node/stats' })).body);
  session.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

const [mode, url, ca] = process.argv.slice(2);
if (mode === 'server') {
  server();
} else if (mode === 'client') {
  client(url, ca).catch((e) => {
    process.stderr.write(`client failed: ${e.stack || e}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: node node_h2_peer.js server | client URL [CA_FILE]\n');
  process.exit(2);
}
