package consensus

// entryOverheadBytes approximates an encoded entry's bytes besides its Data:
// index, term, type and msgpack framing.
const entryOverheadBytes = 24
