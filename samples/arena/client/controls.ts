// The player's controls: WASD or the arrow keys move, space or a held mouse button fires.
// Keys are read by position (KeyboardEvent.code), so WASD sits in the same place on any layout.

const UP = new Set(['KeyW', 'ArrowUp']);
const DOWN = new Set(['KeyS', 'ArrowDown']);
const LEFT = new Set(['KeyA', 'ArrowLeft']);
const RIGHT = new Set(['KeyD', 'ArrowRight']);
const FIRE = new Set(['Space']);
const GAME_KEYS = new Set([...UP, ...DOWN, ...LEFT, ...RIGHT, ...FIRE]);

/** The controls held right now, read once a tick and sent as the `input` RPC. */
export class Controls {
  private readonly held = new Set<string>();
  private pointerFiring = false;

  /** Listens on `window` for keys and on `canvas` for the mouse (or a touch). */
  constructor(canvas: HTMLCanvasElement) {
    window.addEventListener('keydown', (event) => {
      if (!GAME_KEYS.has(event.code)) return;
      // Space and the arrows would scroll the page.
      event.preventDefault();
      this.held.add(event.code);
    });
    window.addEventListener('keyup', (event) => this.held.delete(event.code));
    // A key released while the page had no focus never reports its keyup.
    window.addEventListener('blur', () => this.held.clear());
    canvas.addEventListener('pointerdown', () => (this.pointerFiring = true));
    window.addEventListener('pointerup', () => (this.pointerFiring = false));
  }

  /** -1 left, 1 right, 0 neither (or both). */
  get dx(): number {
    return this.any(RIGHT) - this.any(LEFT);
  }

  /** -1 up, 1 down (the canvas's y grows downwards), 0 neither. */
  get dy(): number {
    return this.any(DOWN) - this.any(UP);
  }

  /** Whether fire is held. */
  get fire(): boolean {
    return this.pointerFiring || this.any(FIRE) === 1;
  }

  private any(keys: ReadonlySet<string>): number {
    for (const key of keys) if (this.held.has(key)) return 1;
    return 0;
  }
}
