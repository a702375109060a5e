// Draws the arena on a 2D canvas, frame by frame: the floor, the shots, the players (this page's
// own ringed in white), the scoreboard, and the latest events.
import { PLAYER_RADIUS, SHOT_RADIUS, WORLD_HEIGHT, WORLD_WIDTH } from '../shared/rules.js';
import type { PlayerState, ShotState } from '../shared/entities.js';

/** What to draw: the players and shots at one moment. */
export interface Frame {
  players: PlayerState[];
  shots: ShotState[];
}

/** What a frame shows besides the arena itself. */
export interface Scene {
  frame: Frame | null;
  /** This page's peer id. */
  self: number;
  /** Points by peer id. */
  scores: ReadonlyMap<number, number>;
  /** The latest events, newest last, as text. */
  events: readonly string[];
}

const FLOOR = '#10141c';
const GRID = '#1b2230';
const GRID_STEP = 50;
const TEXT = '#d8dee9';
const SELF_RING = '#ffffff';
const BARREL_LENGTH = PLAYER_RADIUS * 1.6;
const FONT = '12px ui-monospace, monospace';
const LINE_HEIGHT = 16;
const MARGIN = 10;
// Players get these colours in the order this page first sees them: peer ids are random, so a
// colour derived from the id would often give two players nearly the same one.
const PALETTE = ['#4fc3f7', '#ffb74d', '#81c784', '#e57373', '#ba68c8', '#fff176', '#4db6ac', '#f06292', '#a1887f', '#90a4ae'];

/** Draws scenes onto a canvas of WORLD_WIDTH by WORLD_HEIGHT, each player in a colour of its own. */
export class Renderer {
  private readonly colors = new Map<number, string>();

  constructor(private readonly context: CanvasRenderingContext2D) {}

  /** Draws `scene`, over whatever the canvas held. */
  draw(scene: Scene): void {
    const { context } = this;
    drawFloor(context);
    context.font = FONT;
    if (scene.frame) {
      for (const shot of scene.frame.shots) {
        context.fillStyle = this.colorOf(shot.owner);
        disc(context, shot.x, shot.y, SHOT_RADIUS);
      }
      for (const player of scene.frame.players) this.drawPlayer(player, player.id === scene.self);
    }
    this.drawScores(scene);
    context.textAlign = 'left';
    context.fillStyle = TEXT;
    scene.events.forEach((event, n) => {
      context.fillText(event, MARGIN, WORLD_HEIGHT - MARGIN - (scene.events.length - 1 - n) * LINE_HEIGHT);
    });
  }

  private colorOf(id: number): string {
    let color = this.colors.get(id);
    if (color === undefined) {
      color = PALETTE[this.colors.size % PALETTE.length]!;
      this.colors.set(id, color);
    }
    return color;
  }

  private drawPlayer(player: PlayerState, self: boolean): void {
    const { context } = this;
    context.fillStyle = this.colorOf(player.id);
    disc(context, player.x, player.y, PLAYER_RADIUS);
    // The barrel: the way the player faces and fires.
    context.strokeStyle = this.colorOf(player.id);
    context.lineWidth = 4;
    context.beginPath();
    context.moveTo(player.x, player.y);
    context.lineTo(player.x + Math.cos(player.facing) * BARREL_LENGTH, player.y + Math.sin(player.facing) * BARREL_LENGTH);
    context.stroke();
    if (!self) return;
    context.strokeStyle = SELF_RING;
    context.lineWidth = 2;
    context.beginPath();
    context.arc(player.x, player.y, PLAYER_RADIUS + 3, 0, 2 * Math.PI);
    context.stroke();
    context.fillStyle = TEXT;
    context.textAlign = 'center';
    context.fillText('you', player.x, player.y - PLAYER_RADIUS - 8);
  }

  /** Points by player, best first, in the top right corner; each line in the player's colour, which names it. */
  private drawScores(scene: Scene): void {
    const { context } = this;
    const ranked = [...scene.scores].sort(([idA, a], [idB, b]) => b - a || idA - idB);
    context.textAlign = 'right';
    ranked.forEach(([id, points], n) => {
      context.fillStyle = this.colorOf(id);
      const name = id === scene.self ? `you, peer ${id}` : `peer ${id}`;
      context.fillText(`${name}  ${points}`, WORLD_WIDTH - MARGIN, MARGIN + LINE_HEIGHT * (n + 1));
    });
  }
}

function drawFloor(context: CanvasRenderingContext2D): void {
  context.fillStyle = FLOOR;
  context.fillRect(0, 0, WORLD_WIDTH, WORLD_HEIGHT);
  context.strokeStyle = GRID;
  context.lineWidth = 1;
  context.beginPath();
  for (let x = GRID_STEP; x < WORLD_WIDTH; x += GRID_STEP) {
    context.moveTo(x + 0.5, 0);
    context.lineTo(x + 0.5, WORLD_HEIGHT);
  }
  for (let y = GRID_STEP; y < WORLD_HEIGHT; y += GRID_STEP) {
    context.moveTo(0, y + 0.5);
    context.lineTo(WORLD_WIDTH, y + 0.5);
  }
  context.stroke();
}

function disc(context: CanvasRenderingContext2D, x: number, y: number, radius: number): void {
  context.beginPath();
  context.arc(x, y, radius, 0, 2 * Math.PI);
  context.fill();
}
