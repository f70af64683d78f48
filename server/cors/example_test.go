package cors_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// A Finesse gadget calls the CUIC REST API with an Authorization header, so Chromium sends a
// preflight first. CUIC answers the preflight without CORS headers (the origin is not in its
// allowed list), and the request is blocked. Fetch never touches the network: the RoundTrip
// function answers, here from a fixed table; the probe passes one that sends real requests.
func ExampleFetch() {
	target, _ := url.Parse("https://cuic.example:8444/cuic/rest/status")
	req := cors.Request{
		URL:         target,
		Origin:      "https://finesse.example:8445",
		Method:      "GET",
		Header:      []cors.Header{{Name: "Authorization", Value: "Bearer t"}},
		Credentials: cors.Include,
	}
	answers := map[string]*cors.Response{
		"OPTIONS": {Status: 200, Header: http.Header{"Allow": {"GET, OPTIONS"}}},
	}
	rt := func(o cors.Outgoing) (*cors.Response, error) {
		fmt.Println("sent:", o.Kind, o.Method, o.URL, "with credentials:", o.WithCredentials)
		for _, h := range o.Header {
			fmt.Printf("  %s: %s\n", h.Name, h.Value)
		}
		return answers[o.Method], nil
	}

	out := cors.Fetch(req, rt)
	fmt.Println(out.Verdict(), out.Failure.Reason)
	fmt.Println(cors.ConsoleLine(*out.Failure, out.InitialURL, out.FinalURL, req.Origin))
	// Output:
	// sent: preflight OPTIONS https://cuic.example:8444/cuic/rest/status with credentials: false
	//   Accept: */*
	//   Access-Control-Request-Method: GET
	//   Access-Control-Request-Headers: authorization
	//   Origin: https://finesse.example:8445
	//   Sec-Fetch-Mode: cors
	// blocked PreflightMissingAllowOriginHeader
	// Access to fetch at 'https://cuic.example:8444/cuic/rest/status' from origin 'https://finesse.example:8445' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.
}
