// Package matching decides which EMIS registration, if any, a booking belongs to.
//
// A booking attached to the wrong patient is the worst mistake herolink can make, so matching is
// precision-first: it links only when exactly one registration fits, and answers "unmatched" or
// "ambiguous" whenever anything is missing, partial or contradictory. An unmatched booking is not
// lost: it becomes the "Hero unregistered patient" placeholder and staff link it by hand.
//
// The flow: SearchFilters gives the GetMatchedPatient filters to run, Decide weighs the union of
// what they returned, and Match does both against a connection. Run every filter: stopping at the
// first answer can only hide candidates, and a hidden twin turns "ambiguous" into a wrong link.
//
// The rules Decide applies, in order:
//
//  1. No date of birth, no link: every rule below needs one.
//  2. A valid NHS number (10 digits, Modulus 11) held by one candidate links to that candidate
//     when the date of birth agrees and the first name given, if any, does not contradict the
//     record. Surnames may differ (marriage). If the holder's date of birth differs, or its first
//     name differs, or another candidate agrees on family name, first name and date of birth while
//     the holder does not, nothing is linked: a conflict is never resolved by falling back to
//     demographics. Two holders of one NHS number are ambiguous.
//  3. Otherwise (no NHS number given, an invalid one, or one no candidate holds) a link needs
//     exactly one candidate agreeing on family name, first name and date of birth. Among several,
//     the postcode may pick exactly one; it never stands in for a name or date. A candidate so
//     chosen that holds a different valid NHS number from the one given is a conflict.
//
// Names are compared after folding case, accents (é = e, ø = o, ß = ss), spacing, hyphens and
// apostrophes: O'Brien = OBrien = O Brien, Smith-Jones = Smith Jones. Nothing else is forgiven:
// typos, nicknames, transliterations (Müller and Mueller), name changes and swapped day and month
// are not matches. EMIS keeps middle names in FirstNames, so forenames are compared as words: the
// given forenames agree with the record's when one list of words, read from the start, is the
// other list or its beginning ("Anna" and "Mary Anne" = "Mary" agree with "Anna Maria" and
// "Mary"; "Anne" does not agree with "Mary Anne", nor "Mary Jane" with "Mary Anne"). Because a
// hyphen is a space, "Anna-Maria" = "Anna Maria" and "Jean" agrees with "Jean-Luc".
//
// Demographics and Candidate print and log as "[redacted]": patient details must not reach logs.
// Verdict logs its outcome, rule, EMIS number and reason, which carry no demographics.
package matching
