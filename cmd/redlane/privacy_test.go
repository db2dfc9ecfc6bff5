package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redlane/redlane/internal/app"
)

// TestEraseResident places orders for a resident, erases them with the CLI, and checks
// that no byte of their name or phone can be read from any stream or file on disk while
// the orders' histories still replay and the views still equal a rebuild.
func TestEraseResident(t *testing.T) {
	b := newBinary(t)
	b.launch()
	toks := readDemoTokens(t, b.dir)
	c := client{t, b.base}
	const name, phone = "赵秀兰", "13912345678"
	var ids []string
	for _, title := range []string{"赵秀兰家水管漏水", "请回电13912345678"} {
		var sub struct{ ID string }
		c.must(201, "POST", "/api/v1/orders", "", map[string]any{"lane": "rouqiao-houxiang", "category": "repair", "title": title,
			"description": "联系人赵秀兰，电话 13912345678", "requester": map[string]any{"name": name, "phone": phone}}, &sub)
		ids = append(ids, sub.ID)
	}
	var got struct {
		Title     string
		Requester struct {
			Name, Phone string
			Erased      bool
		}
	}
	c.must(200, "GET", "/api/v1/orders/"+ids[0], toks["王芳"], nil, &got)
	if got.Requester.Name != name || got.Requester.Phone != phone {
		t.Fatalf("before erasure the steward sees %+v", got.Requester)
	}
	if strings.Contains(got.Title, name) {
		t.Errorf("the title kept the name: %q", got.Title)
	}
	c.must(200, "POST", "/api/v1/orders/"+ids[0]+"/dispatch", toks["王芳"], map[string]any{"member": "m-001"}, nil)
	// The member writes the resident's name and number into the note, as people do.
	c.must(200, "POST", "/api/v1/orders/"+ids[0]+"/accept", toks["李明"], nil, nil)
	c.must(200, "POST", "/api/v1/orders/"+ids[0]+"/note", toks["李明"], map[string]any{"text": "已电话联系赵秀兰（+86 139 1234 5678），约好下午上门"}, nil)

	out, err := b.cli("privacy", "erase", "--phone", phone, "--nats-url", b.natsURL(), "--data", b.dir)
	if err != nil || !strings.Contains(out, "erased") {
		t.Fatalf("erase: %v\n%s", err, out)
	}

	c.must(200, "GET", "/api/v1/orders/"+ids[0], toks["王芳"], nil, &got)
	if !got.Requester.Erased || strings.Contains(got.Requester.Name+got.Requester.Phone, "赵") {
		t.Fatalf("after erasure the steward sees %+v", got.Requester)
	}
	// The erasure itself is on the record: when, by whom, no personal detail.
	recs, err := exec.Command(b.path, "audit", "export", "--nats-url", b.natsURL(), "--nats-nkey", filepath.Join(b.dir, app.AuditorSeedFile)).Output()
	if err != nil || !strings.Contains(string(recs), `"type":"redlane.erasure.erased.v1"`) {
		t.Errorf("no erasure record in the log: %v", err)
	}
	var history struct{ Items []any }
	c.must(200, "GET", "/api/v1/orders/"+ids[0]+"/events", toks["审计"], nil, &history)
	if len(history.Items) != 4 {
		t.Fatalf("the history replays %d events, want 4", len(history.Items))
	}
	// The orders still take commands.
	c.must(200, "POST", "/api/v1/orders/"+ids[1]+"/note", toks["王芳"], map[string]any{"text": "居民已要求删除个人信息"}, nil)

	secrets := [][]byte{[]byte(name), []byte(phone), []byte("12345678"), []byte("1234 5678")}
	js := connectAs(t, b.natsURL(), filepath.Join(b.dir, app.ServiceSeedFile))
	ctx := context.Background()
	streams := js.ListStreams(ctx)
	checked := 0
	for info := range streams.Info() {
		st, err := js.Stream(ctx, info.Config.Name)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			msg, err := st.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted
			}
			checked++
			for _, s := range secrets {
				if bytes.Contains(msg.Data, s) {
					t.Errorf("stream %s seq %d holds %q: %s", info.Config.Name, seq, s, msg.Data)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no message was checked")
	}
	err = filepath.WalkDir(b.dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a temporary file the running server has just replaced
		}
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err = b.cli("projections", "verify", "--nats-url", b.natsURL(), "--data", b.dir)
	if err != nil {
		t.Fatalf("views after erasure: %v\n%s", err, out)
	}
}

// TestEraseMemberWithTheCLI erases a volunteer's phone with the CLI: the admin saw it
// before and sees none after, and no byte of it is left readable in the event stream.
func TestEraseMemberWithTheCLI(t *testing.T) {
	b := newBinary(t)
	b.launch()
	c := client{t, b.base}
	var session struct{ Token string }
	c.must(201, "POST", "/api/v1/sessions", "", map[string]any{"username": "admin", "password": app.DemoPassword}, &session)
	phoneOf := func() string {
		var list struct {
			Items []struct{ ID, Phone string }
		}
		c.must(200, "GET", "/api/v1/members", session.Token, nil, &list)
		for _, m := range list.Items {
			if m.ID == "m-001" {
				return m.Phone
			}
		}
		t.Fatal("no member m-001 in the demo")
		return ""
	}
	if got := phoneOf(); got != "13800001111" {
		t.Fatalf("before erasure the admin sees m-001's phone as %q", got)
	}
	if out, err := b.cli("privacy", "erase", "--member", "nobody", "--nats-url", b.natsURL(), "--data", b.dir); err == nil {
		t.Errorf("erasing an unknown member succeeded: %s", out)
	}
	out, err := b.cli("privacy", "erase", "--member", "m-001", "--nats-url", b.natsURL(), "--data", b.dir)
	if err != nil || !strings.Contains(out, "erased") {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	if got := phoneOf(); got != "" {
		t.Errorf("after erasure the admin sees m-001's phone as %q", got)
	}
}
