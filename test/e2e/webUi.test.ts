import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startOrder } from '../../src/client/provisioning';
import { statusQuery } from '../../src/contract/messages';
import { customSearchAttributes } from '../../src/contract/searchAttributes';
import { startCodecServer, type CodecServerHandle } from '../../src/codec/server';
import { requireBinary } from '../../src/platform/temporalBinaries';
import { ordersDataConverter, payloadKeyring } from '../../src/platform/encryption';
import type { provisioningWorkflow } from '../../src/workflows';
import { tempDir } from '../helpers/files';
import { freePort } from '../helpers/ports';
import { RESOURCE_TYPES, testOrder, useProvisioningEnv } from '../helpers/provisioning';
import { waitFor } from '../helpers/waitFor';
import { CHROMIUM_PATH, CHROMIUM_SETUP_COMMAND } from '../../scripts/setup-chromium';
import { encryptionSettings } from '../helpers/encryption';

/**
 * The Temporal Web UI in a real headless browser (Debian's chromium, driven by playwright-core): an order a
 * worker runs with EncryptOrders is unreadable in the UI until the browser is signed in to the codec server,
 * and readable after. The dev server runs with `--ui-codec-endpoint` as `npm start` runs it; the browser has the
 * UI's own "Codec Server" settings (kept in its localStorage) with "include cross-origin credentials" on, which
 * is how the UI sends the codec server's session cookie. Screenshots and page texts are kept in test-artifacts/.
 * Assertions are on page text, never on pixels.
 */

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'web-ui');
const KEY_ID = 'ui2026';
const ENCRYPTION = {
  Keys: { [KEY_ID]: randomBytes(32).toString('base64') },
  ActiveKey: KEY_ID,
  EncryptOrders: true,
};
const TOKEN = randomBytes(24).toString('base64url');
const OWNER = 'Ophelia Brightwater-Quince';
const LOGIN = 'obq.login.9031';
/** Bounded waits for a single-page app on a loaded machine. */
const PAGE_TIMEOUT_MS = 60_000;

function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    assert.fail(
      `${CHROMIUM_PATH} is missing: the Web UI check needs Debian's chromium; run ${CHROMIUM_SETUP_COMMAND}`,
    );
  }
}

async function keep(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const screenshot = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  writeFileSync(path.join(ARTIFACTS, `${name}.txt`), await page.innerText('body'));
  console.log(`Web UI screenshot: ${screenshot}`);
  return screenshot;
}

describe('Temporal Web UI with the codec server (headless chromium)', () => {
  let uiPort = 0;
  let codec: CodecServerHandle | undefined;
  const fixture = useProvisioningEnv(async () => {
    // First: without the browser, nothing else is worth starting.
    requireChromium();
    uiPort = await freePort();
    codec = await startCodecServer({
      keyring: payloadKeyring(encryptionSettings(ENCRYPTION)),
      token: TOKEN,
      allowedOrigins: [`http://localhost:${uiPort}`],
    });
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: requireBinary('cli') },
        ip: '127.0.0.1',
        ui: true,
        uiPort,
        searchAttributes: [...customSearchAttributes],
        extraArgs: ['--log-level', 'error', '--ui-codec-endpoint', codec.url, '--ui-disable-news-fetch'],
      },
    });
    return env;
  });
  const userDataDir = tempDir('snow-ticket-chromium-');
  let context: BrowserContext | undefined;
  let workflowUrl = '';
  let workflowId = '';
  /** The order as the server keeps it: the ciphertext (base64) of the workflow's input payload. */
  let sealedInput = '';

  before(async () => {
    const taskQueue = 'web-ui-codec';
    const harness = await fixture.startWorker(taskQueue, { Encryption: ENCRYPTION });
    const client = new Client({
      connection: fixture.env.connection,
      namespace: fixture.env.namespace ?? 'default',
      dataConverter: ordersDataConverter(harness.settings.TicketConnector.Encryption),
    });
    const order = testOrder(RESOURCE_TYPES.incident, {
      Owner: { Id: 9031, Identifier: 'obq', InternalDisplayName: OWNER },
      Changes: { Login: LOGIN },
    });
    ({ workflowId } = await startOrder(client, order, { taskQueue }));
    const handle = client.workflow.getHandle<typeof provisioningWorkflow>(workflowId);
    await waitFor('the ticket', async () => (await handle.query(statusQuery)).ticket);
    const history = await fixture.env.client.workflow.getHandle(workflowId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    sealedInput = Buffer.from(input?.data ?? []).toString('base64');
    assert.ok(sealedInput.length > 40);
    const namespace = fixture.env.namespace ?? 'default';
    workflowUrl = `http://localhost:${uiPort}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      chromiumSandbox: false,
      args: [
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
    // The UI's own Codec Server settings, as its settings dialog stores them: this endpoint, with cookies.
    const uiOrigin = `http://localhost:${uiPort}`;
    const endpoint = codec?.url ?? '';
    await context.addInitScript(
      ({ origin, codecUrl }) => {
        // Runs in the page (this project's TypeScript has no DOM types).
        const page = globalThis as unknown as {
          location: { origin: string };
          localStorage: { setItem(key: string, value: string): void };
        };
        if (page.location.origin !== origin) return;
        page.localStorage.setItem('endpoint', JSON.stringify(codecUrl));
        page.localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
        page.localStorage.setItem('includeCredentials', 'true');
        page.localStorage.setItem('passAccessToken', 'false');
      },
      { origin: uiOrigin, codecUrl: endpoint },
    );
  });

  after(async () => {
    await context?.close();
    await codec?.close();
  });

  /** Opens the order's page and waits until the UI asked the codec server to decode, and for its answer. */
  async function openOrderPage(page: Page): Promise<number> {
    const decoded = page.waitForResponse(
      (response) =>
        response.url().startsWith(`${codec?.url}/decode`) && response.request().method() === 'POST',
      { timeout: PAGE_TIMEOUT_MS },
    );
    await page.goto(workflowUrl, { timeout: PAGE_TIMEOUT_MS });
    const status = (await decoded).status();
    await page.getByText(workflowId).first().waitFor({ timeout: PAGE_TIMEOUT_MS });
    return status;
  }

  test('without signing in to the codec server, the order is unreadable', async () => {
    const page = await (context as BrowserContext).newPage();
    const status = await openOrderPage(page);
    assert.equal(status, 401, 'the codec server refuses the browser before sign-in');
    // The UI says so, and shows the sealed payload (base64 ciphertext) in the input's place.
    await page
      .getByText('Codec Server could not connect')
      .first()
      .waitFor({ state: 'attached', timeout: PAGE_TIMEOUT_MS });
    await page
      .getByText(sealedInput.slice(0, 40))
      .filter({ visible: true })
      .first()
      .waitFor({ timeout: PAGE_TIMEOUT_MS });
    await keep(page, '1-without-codec-sign-in');
    const text = await page.innerText('body');
    assert.ok(!text.includes(OWNER), 'the owner name must not be readable');
    assert.ok(!text.includes(LOGIN), 'the login must not be readable');
    await page.close();
  });

  test('after signing in to the codec server, the order reads in the UI', async () => {
    const page = await (context as BrowserContext).newPage();
    await page.goto(`${codec?.url}/login`, { timeout: PAGE_TIMEOUT_MS });
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${codec?.url}/login`), page.click('button[type="submit"]')]);
    await page.locator('#signed-in').waitFor({ timeout: PAGE_TIMEOUT_MS });
    assert.ok(!(await page.content()).includes(TOKEN), 'the sign-in page never shows the token');

    const status = await openOrderPage(page);
    assert.equal(status, 200, 'the codec server decodes for the signed-in browser');
    await page.getByText(OWNER).first().waitFor({ timeout: PAGE_TIMEOUT_MS });
    await keep(page, '2-with-codec-sign-in');
    assert.ok((await page.innerText('body')).includes(OWNER));
    await page.close();
  });
});
