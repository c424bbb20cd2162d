package lockmodel

// RecorderOperationsMax bounds the operations one Recorder keeps. Past it the
// Recorder drops further invocations and History returns ErrTooManyOperations:
// a history this long could not be checked in reasonable time anyway.
const RecorderOperationsMax = 1 << 20

// StatesPerStepMax bounds the model states one step may produce from one
// state: no expiry, the operation's lease, the holder's lease, or both.
const StatesPerStepMax = 4

// ViolationsMax bounds the cross-partition violations Check reports; the rest
// are counted in Result.ViolationsDropped.
const ViolationsMax = 64
