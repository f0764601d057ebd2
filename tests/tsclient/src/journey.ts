// A resident's journey through the typed client generated from openapi/openapi.json (openapi-typescript types,
// openapi-fetch calls): sign in, upload a photo, submit a report with it (retried with the same Idempotency-Key: one
// report), follow its steps while the community's staff take them, rate it. Compiled with `tsc --strict`, no `any`.
//
// Run by tests/tsclient/test_tsclient.py against a live server. Inputs (environment): API_URL, RESIDENT_PHONE,
// SMS_INBOX_URL (where the test's SMS gateway shows the codes it was asked to send: the resident's phone),
// CLIENT_ID (the registered app the resident signs in through: every resident request names it in X-Client-Id),
// CATEGORY_ID, DEPARTMENT_ID, WORKER_TOKEN and DEPARTMENT_TOKEN (the staff's side of the story).
// Prints one JSON line: what the journey saw. Exits 1 with a message on the first surprise.
//
// Sign-in: an SMS code (POST /api/v1/auth/sms/codes, then /api/v1/auth/sms/login).

import createClient from "openapi-fetch";
import type { components, paths } from "../build/schema.js";

type Report = components["schemas"]["ReportRead"];
type StepIn = components["schemas"]["StepIn"];
type ErrorEnvelope = components["schemas"]["ErrorEnvelope"];

// an 8×6 PNG; the server decodes and re-encodes every photo
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAIAAABxZ0isAAAAFElEQVR4nGM8ISfHgA0wYRWlkwQAmxQBECiKgAAAAAAASUVORK5CYII=",
  "base64",
);

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function fail(what: string, error: ErrorEnvelope | undefined, status: number): never {
  const detail = error ? `${error.error.code}: ${error.error.message}` : "no error body";
  throw new Error(`${what}: HTTP ${status} (${detail})`);
}

// the resident's app (its tokens carry the app's scopes) and, for the staff's side, a first-party client
const api = createClient<paths>({ baseUrl: env("API_URL"), headers: { "X-Client-Id": env("CLIENT_ID") } });
const staffApi = createClient<paths>({ baseUrl: env("API_URL") });
type Api = typeof api;
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

async function readSms(phone: string): Promise<string> {
  // the resident reads the code off their phone; here: the test's gateway, until the SMS arrives
  for (let i = 0; i < 100; i++) {
    const inbox = await fetch(`${env("SMS_INBOX_URL")}?phone=${encodeURIComponent(phone)}`);
    const codes: unknown = await inbox.json();
    if (Array.isArray(codes) && typeof codes[0] === "string") return codes[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no SMS arrived");
}

async function signIn(phone: string): Promise<string> {
  const asked = await api.POST("/api/v1/auth/sms/codes", { body: { phone, purpose: "login" } });
  if (!asked.data) fail("ask for a code", asked.error, asked.response.status);
  const code = await readSms(phone);
  const { data, error, response } = await api.POST("/api/v1/auth/sms/login", { body: { phone, code } });
  if (!data) fail("sign in", error, response.status);
  return data.access_token;
}

async function uploadPhoto(token: string): Promise<number> {
  const { data, error, response } = await api.POST("/api/v1/uploads", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    headers: auth(token),
    body: { file: "photo.png" }, // the file's name; the serializer puts the bytes in
    bodySerializer: (body) => {
      const form = new FormData();
      form.append("file", new Blob([PNG], { type: "image/png" }), body.file);
      return form;
    },
  });
  if (!data) fail("upload", error, response.status);
  return data.id;
}

async function submitReport(token: string, key: string, photoId: number): Promise<{ report: Report; replayed: boolean }> {
  const { data, error, response } = await api.POST("/api/v1/reports", {
    params: { header: { "Idempotency-Key": key } },
    headers: auth(token),
    body: {
      category_id: Number(env("CATEGORY_ID")),
      title: "楼道堆放杂物",
      description: "3单元楼道被纸箱堵住",
      photo_ids: [photoId],
      address: "1号楼3单元",
    },
  });
  if (!data) fail("submit", error, response.status);
  return { report: data, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}

async function step(client: Api, token: string, report: Report, body: Omit<StepIn, "expected_version">): Promise<Report> {
  const { data, error, response } = await client.POST("/api/v1/reports/{report_id}/steps", {
    params: { path: { report_id: report.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
    headers: auth(token),
    body: { ...body, expected_version: report.version },
  });
  if (!data) fail(`step ${body.action}`, error, response.status);
  return data;
}

async function follow(token: string, reportId: number): Promise<string[]> {
  const { data, error, response } = await api.GET("/api/v1/reports/{report_id}/timeline", {
    params: { path: { report_id: reportId } },
    headers: auth(token),
  });
  if (!data) fail("timeline", error, response.status);
  return data.map((event) => event.to_state ?? event.action);
}

async function main(): Promise<void> {
  const token = await signIn(env("RESIDENT_PHONE"));
  const photoId = await uploadPhoto(token);

  // a flaky network: the same submission sent twice with one key is one report, and both answers are the same
  const key = crypto.randomUUID();
  const [first, retry] = await Promise.all([submitReport(token, key, photoId), submitReport(token, key, photoId)]);
  if (first.report.id !== retry.report.id) throw new Error("the retried submission created a second report");
  let report = first.report;

  // the community's side: accept, dispatch to a department, which starts and resolves it
  const worker = env("WORKER_TOKEN");
  const department = env("DEPARTMENT_TOKEN");
  report = await step(staffApi, worker, report, { action: "accept", note: "已受理，将尽快处理" });
  report = await step(staffApi, worker, report, { action: "dispatch", department_id: Number(env("DEPARTMENT_ID")) });
  report = await step(staffApi, department, report, { action: "start" });
  report = await step(staffApi, department, report, { action: "resolve", note: "杂物已清理" });

  // the resident follows the steps, then rates
  const timeline = await follow(token, report.id);
  const mine = await api.GET("/api/v1/reports/{report_id}", {
    params: { path: { report_id: report.id } },
    headers: auth(token),
  });
  if (!mine.data) fail("read the report", mine.error, mine.response.status);
  const rated = await step(api, token, mine.data, { action: "rate", stars: 5, note: "谢谢" });

  console.log(JSON.stringify({
    report_id: rated.id,
    replayed: [first.replayed, retry.replayed],
    photo_ids: report.photos.map((photo) => photo.id),
    timeline,
    state: rated.state,
    rating: rated.rating,
  }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
