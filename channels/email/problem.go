package email

import (
	"errors"
	"fmt"
)

// MetaParseProblem is the meta key of what was wrong with a message that
// could not be read completely (a Problem* code): the UI says it in the
// user's language; ParseError says it in English.
const MetaParseProblem = "parse_problem"

// What can be wrong with a message, as the users see it.
const (
	ProblemHeader   = "header"    // the header is damaged
	ProblemNoSender = "no_sender" // no readable sender address
	ProblemBoundary = "boundary"  // a multipart without its boundary
	ProblemParts    = "parts"     // a part cut off or damaged (multipart: NextPart: EOF)
	ProblemEncoding = "encoding"  // a part's transfer encoding or charset is broken
	ProblemTooMany  = "too_many"  // more parts than we read
	ProblemTooDeep  = "too_deep"  // parts nested deeper than we read
)

// problemText says each problem in words a manager understands; the
// technical error goes to the log.
var problemText = map[string]string{
	ProblemHeader:   "The message header is damaged, so the sender, subject or date may be missing.",
	ProblemNoSender: "The message has no readable sender address, so it belongs to no contact and cannot be answered.",
	ProblemBoundary: "The message is made of parts but does not say where they begin, so it is shown as raw text.",
	ProblemParts:    "The message was cut off or its parts are damaged, so some of it may be missing.",
	ProblemEncoding: "Part of the message is damaged, so some text or a file may be missing or garbled.",
	ProblemTooMany:  "The message has too many parts to show them all; only the first ones are shown.",
	ProblemTooDeep:  "The message is nested too deeply to show in full.",
}

// rawAttached ends every problem's text: nothing is lost.
const rawAttached = " The original message is attached."

// parseProblem is a parse error with what it means for the user.
type parseProblem struct {
	code string
	err  error
}

func (p *parseProblem) Error() string { return p.err.Error() }
func (p *parseProblem) Unwrap() error { return p.err }

// problemf makes a parse error of a kind (Problem*) with its technical text.
func problemf(code, format string, args ...any) error {
	return &parseProblem{code: code, err: fmt.Errorf(format, args...)}
}

// explain is the code and the plain words of a parse error.
func explain(err error) (code, text string) {
	code = problemOf(err)
	return code, problemText[code] + rawAttached
}

// problemOf is the kind of a parse error (Problem*).
func problemOf(err error) string {
	var p *parseProblem
	if errors.As(err, &p) {
		return p.code
	}
	return ProblemParts
}
