package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/redlane/redlane/internal/app"
)

// privacyCmd runs "redlane privacy erase --phone P": it destroys the resident's key, so
// their name and phone can no longer be read from any event, while every other fact of
// the history still replays. With --member M instead it destroys the member's key: their
// phone can no longer be read.
func privacyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "erase" {
		fmt.Fprintln(stderr, "usage: redlane privacy erase (--phone 13812345678 | --member m-001) [--nats-url URL | --data DIR]")
		return errUsage
	}
	c := newLogCmd("privacy erase", stderr)
	phone := c.String("phone", "", "the resident's phone number")
	memberID := c.String("member", "", "a member's id: erase their phone instead")
	if _, err := c.parse(args[1:]); err != nil {
		return err
	}
	if (*phone == "") == (*memberID == "") {
		return errors.New("one of --phone or --member is required")
	}
	lc, err := c.open(ctx, true)
	if err != nil {
		return err
	}
	defer lc.Close()
	if *memberID != "" {
		key, err := app.EraseMember(ctx, lc, c.nats.Replicas, *memberID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "member %s erased (key %s): their phone can no longer be read from any event\n", *memberID, key)
		return nil
	}
	resident, err := app.EraseResident(ctx, lc, c.nats.Replicas, *phone)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resident %s erased: their name and phone can no longer be read from any event\n", resident)
	return nil
}
