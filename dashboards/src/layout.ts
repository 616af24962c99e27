/**
 * Places panels on Grafana's 24-column grid, left to right and top to bottom, so generated
 * dashboards never overlap and never overflow, whatever the number of kinds or measurements.
 */
import type { GridPos } from './model.js';

export const GRID_COLUMNS = 24;

export class GridLayout {
  private x = 0;
  private y = 0;
  /** Height of the tallest panel on the current line. */
  private lineHeight = 0;

  /** The next free slot of width w and height h (a new line when the current one is full). */
  place(w: number, h: number): GridPos {
    if (w < 1 || w > GRID_COLUMNS || h < 1) throw new Error(`panel size ${w}×${h} does not fit the ${GRID_COLUMNS}-column grid`);
    if (this.x + w > GRID_COLUMNS) this.newLine();
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.lineHeight = Math.max(this.lineHeight, h);
    return pos;
  }

  /** A full-width row header on a line of its own. */
  row(): GridPos {
    if (this.x > 0) this.newLine();
    const pos = this.place(GRID_COLUMNS, 1);
    this.newLine();
    return pos;
  }

  private newLine(): void {
    this.y += this.lineHeight;
    this.x = 0;
    this.lineHeight = 0;
  }
}
