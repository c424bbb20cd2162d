package lockmodel

import "time"

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

// DriveClientsMax bounds DriveConfig.Clients.
const DriveClientsMax = 256

// DriveOpsPerClientMax bounds DriveConfig.OpsPerClient; with
// DriveClientsMax it keeps a run within RecorderOperationsMax.
const DriveOpsPerClientMax = RecorderOperationsMax / DriveClientsMax

// driveGuessLeaseMax and driveGuessTokenMax bound the ids a Drive client
// guesses before it has its own: small, so guesses hit real ones.
const (
	driveGuessLeaseMax = 3
	driveGuessTokenMax = 40
)

// driveTTL is the ttl Drive's clients ask for; the model ignores it.
const driveTTL = 10 * time.Second

// VisualizeOperationsMax bounds the operations a Visualization shows:
// Porcupine's verbose check behind it keeps every partial linearization.
const VisualizeOperationsMax = 100_000

// VisualizeTimeout bounds the verbose check of a Visualization.
const VisualizeTimeout = 5 * time.Minute
