/** Godot `MultiplayerPeer.TransferMode`, with Godot's numeric values. */
export enum TransferMode {
  /** Packets may be lost or arrive in any order. */
  Unreliable = 0,
  /** Packets may be lost; one older than a packet already delivered is dropped (latest wins). */
  UnreliableOrdered = 1,
  /** Every packet arrives, in order. */
  Reliable = 2,
}

/** Godot `MultiplayerPeer.ConnectionStatus`, with Godot's numeric values. */
export enum ConnectionStatus {
  Disconnected = 0,
  Connecting = 1,
  Connected = 2,
}

/** Godot `MultiplayerPeer.TARGET_PEER_BROADCAST`: send to every connected peer. */
export const TARGET_PEER_BROADCAST = 0;
/** Godot `MultiplayerPeer.TARGET_PEER_SERVER`: the server's (or lobby host's) peer id. */
export const TARGET_PEER_SERVER = 1;
/** The highest peer id: ids are 1 to 2^31 - 1. */
export const MAX_PEER_ID = 0x7fffffff;
/** The highest transfer channel a packet may name (Godot's limit). */
export const MAX_TRANSFER_CHANNEL = 255;
