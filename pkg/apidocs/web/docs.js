// Renders the API reference from /openapi.json with Redoc's bundle, served beside this
// file. Redoc's telemetry is off: the page talks to this origin alone (its CSP says so).
import { init } from '/docs/redoc.standalone.js';

init('/openapi.json', { disableTelemetry: true }, document.getElementById('reference'));
