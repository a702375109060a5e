import { ConnectionState, GatheringState, SignalingState } from '../states.js';

/** The W3C names of connection states, which libdatachannel uses too. */
export const CONNECTION_STATES: Readonly<Record<string, ConnectionState>> = {
  new: ConnectionState.New,
  connecting: ConnectionState.Connecting,
  connected: ConnectionState.Connected,
  disconnected: ConnectionState.Disconnected,
  failed: ConnectionState.Failed,
  closed: ConnectionState.Closed,
};

/** ICE gathering states: the W3C's `gathering` and libdatachannel's `in-progress` are one state. */
export const GATHERING_STATES: Readonly<Record<string, GatheringState>> = {
  new: GatheringState.New,
  gathering: GatheringState.Gathering,
  'in-progress': GatheringState.Gathering,
  complete: GatheringState.Complete,
};

/** The W3C names of signaling states, which libdatachannel uses too. */
export const SIGNALING_STATES: Readonly<Record<string, SignalingState>> = {
  stable: SignalingState.Stable,
  'have-local-offer': SignalingState.HaveLocalOffer,
  'have-remote-offer': SignalingState.HaveRemoteOffer,
  'have-local-pranswer': SignalingState.HaveLocalPranswer,
  'have-remote-pranswer': SignalingState.HaveRemotePranswer,
  closed: SignalingState.Closed,
};
