package sandbox

func (s *Server) routePages() {}
