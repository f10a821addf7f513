// The Notifications panel of an endpoint ({VpcEndpointId}) or a service ({ServiceId}):
// Create notification, Modify Notification, Delete notification (an SNS topic ARN and
// the connection events to send).
import { ec2, sns, list } from "./api.js";
import { h, table, section, dialog, field, checkboxGroup, checkedValues, choice, flash, button, status } from "./ui.js";

const EVENTS = ["Connect", "Accept", "Reject", "Delete"];

async function topicField(current) {
  const topics = list((await sns("ListTopics")).Topics).map((t) => t.TopicArn);
  if (current && !topics.includes(current)) topics.unshift(current);
  return field("SNS topic ARN", choice([["", "Choose a topic"], ...topics.map((t) => [t, t])], current || "", { name: "topic" }), "Connection events are published to this topic. Its policy must allow vpce.amazonaws.com to publish (Topics, Create topic).");
}

export function notificationsPanel(view, owner, notifications) {
  let chosen = null;
  const modify = button("Modify Notification", () => chosen && edit(chosen), "secondary", { disabled: true });
  const remove = button("Delete notification", () => chosen && del(chosen), "danger", { disabled: true });

  async function create() {
    const topic = await topicField("");
    const events = checkboxGroup("Events", EVENTS.map((e) => [e, e]), EVENTS);
    dialog({
      title: "Create notification", fields: [topic, events], submitText: "Create notification",
      submit: async (form) => {
        await ec2("CreateVpcEndpointConnectionNotification", { ...owner, ConnectionNotificationArn: form.querySelector("[name=topic]").value, ConnectionEvents: checkedValues(events) });
        flash("Notification created.");
        view.refresh(true);
      },
    });
  }

  async function edit(n) {
    const topic = await topicField(n.connectionNotificationArn);
    const events = checkboxGroup("Events", EVENTS.map((e) => [e, e]), list(n.connectionEvents));
    dialog({
      title: "Modify Notification", fields: [topic, events], submitText: "Modify notification",
      submit: async (form) => {
        await ec2("ModifyVpcEndpointConnectionNotification", { ConnectionNotificationId: n.connectionNotificationId, ConnectionNotificationArn: form.querySelector("[name=topic]").value, ConnectionEvents: checkedValues(events) });
        flash("Notification modified.");
        view.refresh(true);
      },
    });
  }

  function del(n) {
    dialog({
      title: "Delete notification", danger: true, submitText: "Delete", fields: [h("p", {}, `Delete notification ${n.connectionNotificationId}?`)],
      submit: async () => {
        const r = await ec2("DeleteVpcEndpointConnectionNotifications", { ConnectionNotificationId: [n.connectionNotificationId] });
        const failed = list(r.unsuccessful)[0];
        if (failed) throw { code: failed.error?.code, awsMessage: failed.error?.message };
        flash("Notification deleted.");
        view.refresh(true);
      },
    });
  }

  return section("Notifications",
    h("div", { class: "actions", role: "group", "aria-label": "Notification actions" }, button("Create notification", create), modify, remove),
    table({
      caption: "Notifications", rows: notifications, select: "radio", keyOf: (n) => n.connectionNotificationId,
      onSelect: ([n]) => { chosen = n; modify.disabled = !n; remove.disabled = !n; },
      columns: [
        { title: "Notification ID", cell: (n) => n.connectionNotificationId },
        { title: "SNS topic ARN", cell: (n) => n.connectionNotificationArn },
        { title: "Events", cell: (n) => list(n.connectionEvents).join(", ") },
        { title: "State", cell: (n) => status(n.connectionNotificationState), text: (n) => n.connectionNotificationState },
      ],
    }));
}
