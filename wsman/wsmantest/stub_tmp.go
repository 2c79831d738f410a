package wsmantest

import "net/http"

type shell struct{}
type enumeration struct{}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusNotImplemented)
}

func (s *Server) janitor() {
	defer s.wg.Done()
	<-s.ctx.Done()
}
