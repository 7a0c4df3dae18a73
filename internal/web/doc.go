// Package web serves herolink's server-rendered pages for practice staff and support under
// /admin: sign-in, the support overview of every practice's connection health, a practice's
// page, and the EMIS connection form. Pages are html/template with the NHS.UK frontend's CSS and
// work without JavaScript; htmx only enhances them. The EMIS API password typed on the form
// never appears in any response: between the form's steps it is kept server-side.
package web
