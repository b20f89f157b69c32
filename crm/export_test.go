package crm

// The bulk helpers are crm's own; its tests reach them through these.
var (
	Bulk     = bulk
	Query    = query
	In       = inList
	InTuples = inTuples
)
