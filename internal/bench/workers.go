package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// httpLife is a worker's op that lives orders through the HTTP API, one request per
// call, as a hotline operator, the lane's steward, the member and the resident would.
// Submits carry the operator's token: residents' own submits are rate limited per
// address, and every bench client shares one.
func httpLife(c *wire, d *district, w int) op {
	l, mem := d.worker(w)
	step, n := 0, 0
	var id, receipt string
	submit := func(phone string) []byte {
		b, _ := json.Marshal(map[string]any{
			"lane": l.id, "category": "repair", "title": title, "description": description,
			"requester": map[string]string{"name": "张阿姨", "phone": phone},
			"mode":      "instant", "channel": "station", "priority": "normal",
		})
		return b
	}
	dispatch, _ := json.Marshal(map[string]string{"member": mem})
	complete, _ := json.Marshal(map[string]any{"note": doneNote, "minutes": 40})
	return func(ctx context.Context) error {
		var err error
		switch step {
		case 0:
			var out struct {
				ID      string `json:"id"`
				Receipt string `json:"receipt"`
			}
			err = c.post(ctx, "/api/v1/orders", d.operatorToken, submit(d.phones[(w*131+n)%len(d.phones)]), http.StatusCreated, &out)
			id, receipt = out.ID, out.Receipt
			n++
		case 1:
			err = c.post(ctx, "/api/v1/orders/"+id+"/dispatch", d.stewardToken, dispatch, http.StatusOK, nil)
		case 2:
			err = c.post(ctx, "/api/v1/orders/"+id+"/accept", d.memberTokens[mem], nil, http.StatusOK, nil)
		case 3:
			err = c.post(ctx, "/api/v1/orders/"+id+"/complete", d.memberTokens[mem], complete, http.StatusOK, nil)
		case 4:
			rate, _ := json.Marshal(map[string]any{"solved": true, "stars": 5, "comment": comment, "receipt": receipt})
			err = c.post(ctx, "/api/v1/orders/"+id+"/rate", "", rate, http.StatusOK, nil)
		}
		step = (step + 1) % 5
		return err
	}
}

// wire is a minimal HTTP/1.1 client on one kept-alive connection. The bench's clients
// share the machine's CPU with the server they measure, and net/http's client costs
// about as much per request as the server does; this one costs a fraction of it.
type wire struct {
	addr string // host:port
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

func (c *wire) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// post sends one request and reads its answer, which must have status want; out, when
// not nil, gets the answer's JSON.
func (c *wire) post(ctx context.Context, path, token string, body []byte, want int, out any) error {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 8192)
	}
	b := append(c.buf[:0], "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.addr...)
	if token != "" {
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, token...)
	}
	if body != nil {
		b = append(b, "\r\nContent-Type: application/json"...)
	}
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b
	deadline := time.Now().Add(time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.conn.SetDeadline(deadline)
	status, answer, err := c.roundTrip(b)
	if err != nil {
		c.close()
		return fmt.Errorf("POST %s: %w", path, err)
	}
	if status != want {
		return fmt.Errorf("POST %s: %d %s", path, status, answer)
	}
	if out != nil {
		return json.Unmarshal(answer, out)
	}
	return nil
}

func (c *wire) roundTrip(req []byte) (int, []byte, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h := strings.TrimSpace(string(line))
		if h == "" {
			break
		}
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length, err = strconv.Atoi(value); err != nil {
				return 0, nil, fmt.Errorf("bad Content-Length %q", value)
			}
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked")
		case "connection":
			closing = strings.EqualFold(value, "close")
		}
	}
	var body []byte
	switch {
	case chunked:
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return 0, nil, err
			}
			size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("bad chunk size %q", line)
			}
			if size == 0 {
				if _, err := c.r.ReadString('\n'); err != nil {
					return 0, nil, err
				}
				break
			}
			chunk := make([]byte, size+2)
			if _, err := io.ReadFull(c.r, chunk); err != nil {
				return 0, nil, err
			}
			body = append(body, chunk[:size]...)
		}
	case length >= 0:
		body = make([]byte, length)
		if _, err := io.ReadFull(c.r, body); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errors.New("an answer without a length")
	}
	if closing {
		c.close()
	}
	return status, body, nil
}

// rawLife is a worker's op for the raw baseline: the same bodies as an order's life,
// each a synchronous JetStream publish to the order's own subject carrying the
// expected last subject sequence, and nothing else.
func rawLife(js jetstream.JetStream, prefix string, bodies [][][]byte, w int) op {
	step, k := 0, 0
	var subj string
	var last uint64
	var life [][]byte
	return func(ctx context.Context) error {
		if step == 0 {
			subj = prefix + "." + strconv.Itoa(w) + "." + strconv.Itoa(k)
			life = bodies[(w*131+k)%len(bodies)]
			last = 0
			k++
		}
		m := &nats.Msg{Subject: subj, Data: life[step], Header: nats.Header{
			jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(last, 10)},
		}}
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			return err
		}
		last = ack.Sequence
		step = (step + 1) % len(life)
		return nil
	}
}
