// CloudWatch through the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch), in
// the three protocols the client can speak: its default awsJson1_0, Smithy RPC v2
// CBOR and Query (the protocol classes @aws-sdk/core ships, given as the client's
// `protocol`). Run by tests/integration/test_cloudwatch_protocols.py; prints JSON.
// Env: LP_URL, AWS_ACCESS_KEY_ID/SECRET, AWS_REGION, LP_WINDOW ([start, end] epoch s),
// LP_ENDPOINT_DIMS ([[name, value], ...]), LP_SERVICE_ID.
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from "@aws-sdk/client-cloudwatch";
import { AwsQueryProtocol, AwsSmithyRpcV2CborProtocol } from "@aws-sdk/core/protocols";

const [start, end] = JSON.parse(process.env.LP_WINDOW).map((s) => new Date(s * 1000));
const dims = JSON.parse(process.env.LP_ENDPOINT_DIMS).map(([Name, Value]) => ({ Name, Value }));
const ns = "AWS/PrivateLinkEndpoints";

const protocols = {
  json: undefined,
  "smithy-rpc-v2-cbor": AwsSmithyRpcV2CborProtocol,
  query: AwsQueryProtocol,
};

const out = {};
for (const [name, protocol] of Object.entries(protocols)) {
  const cw = new CloudWatchClient({
    endpoint: process.env.LP_URL,
    region: process.env.AWS_REGION,
    maxAttempts: 1,
    ...(protocol ? { protocol } : {}),
  });
  const sent = [];
  cw.middlewareStack.add(
    (next) => async (args) => {
      sent.push(args.request.headers["content-type"] ?? "");
      return next(args);
    },
    { step: "finalizeRequest", name: "lpContentType" },
  );
  const r = {};
  const stats = await cw.send(
    new GetMetricStatisticsCommand({
      Namespace: ns, MetricName: "BytesProcessed", Dimensions: dims, StartTime: start, EndTime: end,
      Period: 60, Statistics: ["Sum"],
    }),
  );
  r.bytes = stats.Datapoints.map((d) => d.Sum);
  r.timestamps_are_dates = stats.Datapoints.every((d) => d.Timestamp instanceof Date);
  const data = await cw.send(
    new GetMetricDataCommand({
      StartTime: start, EndTime: end,
      MetricDataQueries: [{ Id: "b", MetricStat: { Metric: { Namespace: ns, MetricName: "BytesProcessed", Dimensions: dims }, Period: 60, Stat: "Sum" } }],
    }),
  );
  r.metric_data = data.MetricDataResults[0].Values;
  r.listed = (await cw.send(new ListMetricsCommand({ Namespace: ns }))).Metrics.length;
  try {
    await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: ns, MetricName: "BytesProcessed", Dimensions: dims, StartTime: start, EndTime: end,
        Period: 45, Statistics: ["Sum"],
      }),
    );
    r.bad_period = "no error";
  } catch (e) {
    r.bad_period = [e.name, e.Code ?? "", e.$metadata?.httpStatusCode ?? 0];
  }
  r.content_types = [...new Set(sent)];
  out[name] = r;
}
console.log(JSON.stringify(out));
