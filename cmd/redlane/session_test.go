package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSessionCookies: the pages' cookie holds a session id, never the token; it is
// HttpOnly and strict, marked Secure with --secure-cookies, and signs its holder in.
func TestSessionCookies(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a server")
	}
	for _, secure := range []bool{false, true} {
		dir := t.TempDir()
		var args []string
		if secure {
			args = append(args, "--secure-cookies")
		}
		base, _ := startServe(t, dir, nil, args...)
		waitReady(t, base)
		token := readDemoTokens(t, dir)["王芳"]
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.PostForm(base+"/signin", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		set := resp.Header.Get("Set-Cookie")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(set, "redlane_session=") {
			t.Fatalf("sign-in: %d, Set-Cookie %q", resp.StatusCode, set)
		}
		if strings.Contains(set, token) {
			t.Errorf("the cookie holds the API token: %q", set)
		}
		if got := strings.Contains(set, "; Secure"); got != secure {
			t.Errorf("--secure-cookies %v: Set-Cookie %q", secure, set)
		}
		for _, want := range []string{"HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		cookie := strings.SplitN(strings.TrimPrefix(set, "redlane_session="), ";", 2)[0]
		req, _ := http.NewRequest("GET", base+"/board", nil)
		req.AddCookie(&http.Cookie{Name: "redlane_session", Value: cookie})
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the board with the session cookie: %d", resp.StatusCode)
		}
	}
}
