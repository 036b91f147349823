package store

// NewIDForTest exposes newID to the external tests.
var NewIDForTest = newID
