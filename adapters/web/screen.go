package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// entryView is one linkage message on a screen.
type entryView struct {
	Seq        uint64
	Time       string // 15:04 in Asia/Shanghai
	Date       string
	Text       string
	Dimensions []string // 人 事 …
	Order      string
}

func entryOf(e feed.Entry) entryView {
	v := entryView{Seq: e.Seq, Time: clock(e.Time), Date: shanghai(e.Time), Text: e.Text, Order: e.Order}
	for _, d := range e.Dimensions {
		v.Dimensions = append(v.Dimensions, nameOr(feed.Label(d), d))
	}
	return v
}

type screenPage struct {
	Title     string
	Lane      string
	Station   string
	Community string // the community's name
	Scope     string // lane or community
	Entries   []entryView
	Clock     string
	Date      string
	LiveSrc   string
	Other     string // the address of the other scope
	OtherName string
}

// screenQuery is what a terminal shows: its lane, or with ?scope=community the lane's
// whole community.
func screenQuery(l lane.State, r *http.Request) (feed.Query, string) {
	if r.URL.Query().Get("scope") == "community" && l.Community != "" {
		return feed.Query{Community: l.Community}, "community"
	}
	return feed.Query{Lane: l.ID}, "lane"
}

func (h *handler) screenLane(w http.ResponseWriter, r *http.Request) (lane.State, bool) {
	id := r.PathValue("lane")
	l, ok := h.svc.Dir.Lane(id)
	if !domain.ValidID(id) || !ok {
		h.fail(w, r, nil, problem{Status: http.StatusNotFound, Title: "没有这条街巷"})
		return l, false
	}
	return l, true
}

// screenEntries are the newest entries of q, newest first.
func (h *handler) screenEntries(ctx context.Context, q feed.Query) ([]entryView, uint64, error) {
	q.Limit = 40
	entries, err := h.views.Feed(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	var last uint64
	out := make([]entryView, 0, len(entries))
	for _, e := range entries {
		out = append(out, entryOf(e))
		last = max(last, e.Seq)
	}
	slices.Reverse(out)
	return out, last, nil
}

// screen is the public, full-screen live feed of a station's terminal.
func (h *handler) screen(w http.ResponseWriter, r *http.Request) {
	l, ok := h.screenLane(w, r)
	if !ok {
		return
	}
	q, scope := screenQuery(l, r)
	entries, last, err := h.screenEntries(r.Context(), q)
	if err != nil {
		h.failErr(w, r, nil, err)
		return
	}
	now := h.svc.Now()
	p := screenPage{
		Title: nameOr(l.Name, l.ID) + " · 联动信息", Lane: nameOr(l.Name, l.ID), Station: l.Station,
		Community: h.communityName(l.Community), Scope: scope, Entries: entries, Clock: now.In(projections.Shanghai).Format("15:04:05"),
		Date:    now.In(projections.Shanghai).Format("2006年1月2日"),
		LiveSrc: withParams("/screen/"+l.ID+"/events", "scope", scope, "after", strconv.FormatUint(last, 10)),
	}
	if scope == "lane" {
		p.Other, p.OtherName = "/screen/"+l.ID+"?scope=community", "看全社区"
	} else {
		p.Other, p.OtherName = "/screen/"+l.ID, "只看本街巷"
	}
	h.render(w, http.StatusOK, "screen", p)
}

// screenEvents streams a screen's new entries, each as an HTML list item (event
// "entry", id its sequence).
func (h *handler) screenEvents(w http.ResponseWriter, r *http.Request) {
	l, ok := h.screenLane(w, r)
	if !ok {
		return
	}
	q, _ := screenQuery(l, r)
	flusher, ok := startStream(w)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	entries, failed := h.follow(ctx, []feed.Query{q}, resumeAfter(r))
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-failed:
			return
		case <-heartbeat.C:
			_, _ = w.Write([]byte(": keep-alive\n\n"))
		case e := <-entries:
			html, err := h.fragmentHTML("screen", "entry", entryOf(e))
			if err != nil {
				h.log.Error("render screen entry", "err", err)
				return
			}
			writeEvent(w, e.Seq, "entry", html)
		}
		flusher.Flush()
	}
}
