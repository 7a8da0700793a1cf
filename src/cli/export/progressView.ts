import { MultiBar, Format, type Options as BarOptions, type Params as BarParams } from 'cli-progress';
import type { ExportSnapshot } from '../../client/exportProgress';
import { IDENTITY_TABLES } from '../../servicenow/tables';
import { RateMeter, rateText, statusText, tableLines, type TableLine } from './tableLines';

/** How a followed export is shown while it runs: progress bars on a terminal, plain lines elsewhere. */

/** Plain progress lines: at most one per running table this often. */
const PLAIN_LINE_INTERVAL_MS = 5_000;

/** How a followed run is shown: bars on a terminal, plain lines elsewhere, nothing for --json. */
export interface ProgressView {
  update(snapshot: ExportSnapshot): void;
  /** A message about the following itself (a failed look, no worker). */
  note(message: string): void;
  stop(): void;
}

const silentView: ProgressView = { update() {}, note() {}, stop() {} };

class BarsView implements ProgressView {
  private readonly multibar: MultiBar;
  private readonly bars = new Map<string, ReturnType<MultiBar['create']>>();
  private readonly meter = new RateMeter();
  private readonly width: number;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.width = Math.max(...IDENTITY_TABLES.map((table) => table.length));
    this.multibar = new MultiBar({
      stream,
      format: (options: BarOptions, params: BarParams, payload: { line?: TableLine }) =>
        this.format(options, params, payload.line),
      barsize: 30,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: true,
      gracefulExit: false,
      emptyOnZero: true,
      fps: 5,
      // Our own look every POLL_INTERVAL_MS: no extra redraws in between.
      synchronousUpdate: false,
    });
  }

  private format(options: BarOptions, params: BarParams, line: TableLine | undefined): string {
    if (line === undefined) return '';
    const now = Date.now();
    const progress = line.total === undefined || line.total === 0 ? 0 : Math.min(1, line.rows / line.total);
    const bar = Format.BarFormat(line.state === 'done' ? 1 : progress, options);
    const percent = line.total === undefined ? '   ?' : `${Math.floor(progress * 100)}%`.padStart(4);
    const count = line.total === undefined ? `${line.rows}` : `${line.rows}/${line.total}`;
    const rate = rateText(line.rate);
    return [
      `${line.table.padEnd(this.width)} ${bar} ${percent}`,
      `${count} rows`,
      ...(rate === '' ? [] : [rate]),
      statusText(line, now),
    ].join(' | ');
  }

  update(snapshot: ExportSnapshot): void {
    for (const line of tableLines(snapshot, this.meter, Date.now())) {
      const total = line.total ?? 0;
      const bar = this.bars.get(line.table);
      if (bar === undefined) {
        this.bars.set(line.table, this.multibar.create(total, line.rows, { line }));
      } else {
        bar.setTotal(total);
        bar.update(line.rows, { line });
      }
    }
  }

  note(message: string): void {
    // The multibar prints logged lines when it redraws, which it does only once it has bars.
    if (this.bars.size === 0) this.stream.write(`${message}\n`);
    else this.multibar.log(`${message}\n`);
  }

  stop(): void {
    this.multibar.update();
    this.multibar.stop();
  }
}

class PlainView implements ProgressView {
  private readonly meter = new RateMeter();
  private readonly last = new Map<string, { key: string; at: number }>();

  constructor(private readonly write: (line: string) => void) {}

  update(snapshot: ExportSnapshot): void {
    const now = Date.now();
    for (const line of tableLines(snapshot, this.meter, now)) {
      // State changes print at once; progress of a running table at most every PLAIN_LINE_INTERVAL_MS.
      const key = `${line.state}|${line.attempt}|${line.waitingFor ?? ''}`;
      const previous = this.last.get(line.table);
      const changed = previous?.key !== key;
      if (line.state === 'pending' && previous === undefined) {
        this.last.set(line.table, { key, at: now });
        continue;
      }
      if (!changed && (line.state !== 'running' || now - (previous?.at ?? 0) < PLAIN_LINE_INTERVAL_MS)) {
        continue;
      }
      this.last.set(line.table, { key, at: now });
      this.write(this.describe(line, now));
    }
  }

  private describe(line: TableLine, now: number): string {
    const rate = rateText(line.rate);
    const rows =
      line.total === undefined || line.state === 'done'
        ? `${line.rows} rows`
        : `${line.rows}/${line.total} rows`;
    const failure =
      line.state === 'running' && line.attempt > 1 && line.lastFailure !== undefined
        ? `; previous attempt: ${line.lastFailure}`
        : '';
    return `${line.table}: ${statusText(line, now)}, ${rows}${rate === '' ? '' : `, ${rate}`}${failure}`;
  }

  note(message: string): void {
    this.write(message);
  }

  stop(): void {}
}

export interface FollowOptions {
  readonly progress: boolean;
  readonly json: boolean;
}

export function progressView(options: FollowOptions): ProgressView {
  if (options.json) return silentView;
  if (options.progress && process.stdout.isTTY) return new BarsView(process.stdout);
  return new PlainView((line) => console.log(line));
}
