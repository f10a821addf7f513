// SNS topics with their subscriptions (the topics connection notifications publish to).
import { sns, list } from "./api.js";
import { h, table, section, dialog, field, flash, button } from "./ui.js";

export async function topicsPage(view) {
  const topics = list((await sns("ListTopics")).Topics).map((t) => t.TopicArn);
  const subs = await Promise.all(topics.map((arn) => sns("ListSubscriptionsByTopic", { TopicArn: arn }).then((r) => list(r.Subscriptions))));
  view.fingerprint(JSON.stringify([topics, subs]));
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Topics"), button("Create topic", () => dialog({
      title: "Create topic", submitText: "Create topic",
      fields: [field("Name", h("input", { name: "name", autocomplete: "off" })),
        h("div", { class: "check" }, h("input", { type: "checkbox", id: "vpce-policy", name: "vpcePolicy" }),
          h("label", { for: "vpce-policy" }, "Allow VPC endpoint connection notifications (a policy statement letting vpce.amazonaws.com publish)"))],
      submit: async (form) => {
        const r = await sns("CreateTopic", { Name: form.querySelector("[name=name]").value.trim() });
        if (form.querySelector("[name=vpcePolicy]").checked) {
          const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "vpce.amazonaws.com" }, Action: "SNS:Publish", Resource: r.TopicArn }] };
          await sns("SetTopicAttributes", { TopicArn: r.TopicArn, AttributeName: "Policy", AttributeValue: JSON.stringify(policy) });
        }
        flash(`Created ${r.TopicArn}.`);
        view.refresh(true);
      },
    }), "primary")),
    table({ caption: "Topics", rows: topics.map((arn, i) => ({ arn, subs: subs[i] })), columns: [
      { title: "Topic ARN", cell: (t) => t.arn }, { title: "Subscriptions", cell: (t) => String(t.subs.length) },
    ] }),
    ...topics.map((arn, i) => section(`Subscriptions of ${arn.split(":").pop()}`, table({ caption: `Subscriptions of ${arn}`, rows: subs[i], columns: [
      { title: "Subscription ARN", cell: (s) => s.SubscriptionArn }, { title: "Protocol", cell: (s) => s.Protocol }, { title: "Endpoint", cell: (s) => s.Endpoint },
    ] }))),
  ];
}
