package open311

import (
	"encoding/xml"
	"net/http"
	"time"
)

// Bounds of servicerequestupdates.
const (
	// MaxUpdates is the most updates one answer holds: the oldest in the window. A
	// client that gets this many asks again from the last one's updated_datetime.
	MaxUpdates = 1000
	// UpdatesSpan is the window without start_date or end_date: the last day.
	UpdatesSpan = 24 * time.Hour
)

// updateDoc is one public transition of a request (FixMyStreet's servicerequestupdates).
type updateDoc struct {
	UpdateID           string `xml:"update_id" json:"update_id"`
	RequestID          string `xml:"service_request_id" json:"service_request_id"`
	Status             string `xml:"status" json:"status"`
	UpdatedDatetime    string `xml:"updated_datetime" json:"updated_datetime"`
	Description        string `xml:"description" json:"description"`
	MediaURL           string `xml:"media_url" json:"media_url"`
	ExternalStatusCode string `xml:"external_status_code" json:"external_status_code"`
	RedlaneStatus      string `xml:"redlane_status" json:"redlane_status"`
	Number             string `xml:"redlane_number" json:"redlane_number"`
}

type updatesDoc struct {
	XMLName xml.Name    `xml:"service_request_updates"`
	Updates []updateDoc `xml:"request_update"`
}

// updates answers GET servicerequestupdates: every public transition made between
// start_date and end_date (both inclusive), oldest first. status is open or closed;
// external_status_code is FixMyStreet's extended name (OPEN, ACTION_SCHEDULED,
// IN_PROGRESS, FIXED, CLOSED), which extended_statuses=true puts in status too.
func (s *Server) updates(w http.ResponseWriter, r *http.Request, f format, _ string) {
	q := r.URL.Query()
	from, to, ferr := parseWindow(q, s.svc.Now(), UpdatesSpan)
	if ferr != nil {
		s.fail(w, r, f, invalid(ferr.field, ferr.msg))
		return
	}
	extended := false
	switch q.Get("extended_statuses") {
	case "", "false", "0":
	case "true", "1":
		extended = true
	default:
		s.fail(w, r, f, invalid("extended_statuses", "must be true or false"))
		return
	}
	if s.unready(w, r, f) {
		return
	}
	doc := updatesDoc{Updates: []updateDoc{}}
	for _, u := range s.ledger.updates(from, to, MaxUpdates) {
		status := open311Status(u.Status)
		if extended {
			status = fmsStatus(u.Status)
		}
		doc.Updates = append(doc.Updates, updateDoc{
			UpdateID: u.ID, RequestID: u.Request, Status: status, UpdatedDatetime: datetime(u.Time),
			Description: u.Text, ExternalStatusCode: fmsStatus(u.Status), RedlaneStatus: string(u.Status), Number: u.Number,
		})
	}
	write(w, http.StatusOK, f, doc, doc.Updates)
}
