/** Godot `WebRTCPeerConnection.ConnectionState`, with Godot's numeric values. */
export enum ConnectionState {
  New = 0,
  Connecting = 1,
  Connected = 2,
  Disconnected = 3,
  Failed = 4,
  Closed = 5,
}

/** Godot `WebRTCPeerConnection.GatheringState`, with Godot's numeric values. */
export enum GatheringState {
  New = 0,
  Gathering = 1,
  Complete = 2,
}

/** Godot `WebRTCPeerConnection.SignalingState`, with Godot's numeric values. */
export enum SignalingState {
  Stable = 0,
  HaveLocalOffer = 1,
  HaveRemoteOffer = 2,
  HaveLocalPranswer = 3,
  HaveRemotePranswer = 4,
  Closed = 5,
}

/** Godot `WebRTCDataChannel.ChannelState`, with Godot's numeric values. */
export enum ChannelState {
  Connecting = 0,
  Open = 1,
  Closing = 2,
  Closed = 3,
}

/** Godot `WebRTCDataChannel.WriteMode`: how `putPacket` sends, as text or as binary. */
export enum WriteMode {
  Text = 0,
  Binary = 1,
}
