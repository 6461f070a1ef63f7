// A Go strategy engine's view of tradingcore, as the interop tests drive it:
// register, publish ticks, exit, exit again, read the tracker, square off the
// rest with ExitAll, and report every outcome as one JSON object on stdout.
// The Go stubs are generated from proto/ at test time (see buf.gen.yaml).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tc "tradingcore.test/interop/gen/tradingcore/v1"
)

type report struct {
	Health          string   `json:"health"`
	Created         bool     `json:"created"`
	TicksAccepted   uint64   `json:"ticksAccepted"`
	Ltp             string   `json:"ltp"`
	FirstExit       string   `json:"firstExit"`
	FirstExitPrice  string   `json:"firstExitPrice"`
	FirstSuccess    bool     `json:"firstSuccess"`
	SecondExit      string   `json:"secondExit"`
	TrackerStatus   string   `json:"trackerStatus"`
	MissingTracker  string   `json:"missingTracker"`
	ExitAllStatuses []string `json:"exitAllStatuses"`
	ExitAll         string   `json:"exitAll"`
	Unauthenticated string   `json:"unauthenticated,omitempty"`
}

func main() {
	address := flag.String("address", "127.0.0.1:50051", "tradingcore address")
	prefix := flag.String("prefix", "go", "order_no prefix")
	token := flag.String("token", "", "bearer token, when the server wants one")
	flag.Parse()
	if err := run(*address, *prefix, *token); err != nil {
		fmt.Fprintln(os.Stderr, "go client:", err)
		os.Exit(1)
	}
}

func run(address, prefix, token string) error {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	exits := tc.NewExitServiceClient(conn)
	ticks := tc.NewTickServiceClient(conn)
	var out report

	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "tradingcore.v1.ExitService"})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	out.Health = health.GetStatus().String()

	instrument := &tc.Instrument{Segment: tc.Segment_SEGMENT_MCX_COMM, SecurityId: "GOLD1"}
	orderNos := []string{prefix + "-1", prefix + "-2", prefix + "-3"}
	for i, orderNo := range orderNos {
		registered, err := exits.RegisterTracker(ctx, &tc.RegisterTrackerRequest{
			OrderNo: orderNo, Segment: instrument.Segment, SecurityId: instrument.SecurityId, Symbol: "GOLDM",
			Side: tc.Side_SIDE_SHORT, Quantity: "10", EntryPrice: "71250.50", Paper: true,
		})
		if err != nil {
			return fmt.Errorf("register %s: %w", orderNo, err)
		}
		if i == 0 {
			out.Created = registered.GetCreated()
		}
	}

	publish, err := ticks.PublishTicks(ctx)
	if err != nil {
		return err
	}
	if err := publish.Send(&tc.PublishTicksRequest{Ticks: []*tc.Tick{{Instrument: instrument, Ltp: "71190.25"}}}); err != nil {
		return err
	}
	published, err := publish.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	out.TicksAccepted = published.GetAccepted()

	ltp, err := ticks.GetLtp(ctx, &tc.GetLtpRequest{Instrument: instrument})
	if err != nil {
		return fmt.Errorf("ltp: %w", err)
	}
	out.Ltp = ltp.GetLtp().GetPrice()

	first, err := exits.ExecuteExit(ctx, &tc.ExecuteExitRequest{OrderNo: orderNos[0], Reason: "stop loss hit", ReasonCode: tc.ExitReasonCode_EXIT_REASON_CODE_STOP_LOSS})
	if err != nil {
		return fmt.Errorf("exit: %w", err)
	}
	out.FirstExit = first.GetResult().GetStatus().String()
	out.FirstExitPrice = first.GetResult().GetExitPrice()
	out.FirstSuccess = first.GetResult().GetSuccess()
	second, err := exits.ExecuteExit(ctx, &tc.ExecuteExitRequest{OrderNo: orderNos[0], Reason: "stop loss hit"})
	if err != nil {
		return fmt.Errorf("second exit: %w", err)
	}
	out.SecondExit = second.GetResult().GetStatus().String()

	tracker, err := exits.GetTracker(ctx, &tc.GetTrackerRequest{OrderNo: orderNos[0]})
	if err != nil {
		return fmt.Errorf("get tracker: %w", err)
	}
	out.TrackerStatus = tracker.GetTracker().GetStatus().String()
	_, err = exits.GetTracker(ctx, &tc.GetTrackerRequest{OrderNo: prefix + "-missing"})
	out.MissingTracker = status.Code(err).String()

	stream, err := exits.ExitAll(ctx, &tc.ExitAllRequest{Segment: tc.Segment_SEGMENT_MCX_COMM, Reason: "session end", ReasonCode: tc.ExitReasonCode_EXIT_REASON_CODE_SESSION_END})
	if err != nil {
		return fmt.Errorf("exit all: %w", err)
	}
	for {
		response, err := stream.Recv()
		if err == io.EOF {
			out.ExitAll = codes.OK.String()
			break
		}
		if err != nil {
			out.ExitAll = status.Code(err).String()
			break
		}
		out.ExitAllStatuses = append(out.ExitAllStatuses, response.GetResult().GetStatus().String())
	}

	if token != "" {
		_, err = exits.GetTracker(context.Background(), &tc.GetTrackerRequest{OrderNo: orderNos[0]})
		out.Unauthenticated = status.Code(err).String()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
