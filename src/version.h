/* version.h - agcod's version, for the User-Agent, reports and -V */
#ifndef AGCOD_VERSION_H
#define AGCOD_VERSION_H

#define AGCOD_VERSION	"0.4.1"

#endif
