// A realistic run of @gitbeaker/rest against `gl-csm sandbox serve`:
//   node gitbeaker_run.mjs URL TOKEN NODE_MODULES_DIR
// (the package installed by `npm install --prefix .clients/node @gitbeaker/rest`).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [url, token, modules] = process.argv.slice(2);
const resolve = createRequire(join(modules, 'resolve.js')).resolve;
const { Gitlab } = await import(pathToFileURL(resolve('@gitbeaker/rest')).href);
const tag = Date.now().toString(36);
const api = new Gitlab({ host: url, token });
const step = async (name, fn) => {
  try {
    const out = await fn();
    console.log(`ok ${name}`);
    return out;
  } catch (err) {
    const body = err?.cause?.description ?? err?.message ?? String(err);
    console.log(`FAIL ${name}: ${body}`);
    process.exitCode = 1;
    throw err;
  }
};

const group = await step('create group', () => api.Groups.create(`Beaker ${tag}`, `beaker-${tag}`));
const project = await step('create project', () =>
  api.Projects.create({ name: 'app', namespaceId: group.id, description: 'by gitbeaker' }));
const users = await step('find user', () => api.Users.all({ username: 'vp-cs' }));
await step('add member', () => api.ProjectMembers.add(project.id, 30, { userId: users[0].id }));
await step('list members', async () => {
  const members = await api.ProjectMembers.all(project.id);
  if (members.length !== 1) throw new Error(`members: ${members.length}`);
});
const label = await step('create label', () => api.ProjectLabels.create(project.id, 'bug', '#ff0000'));
await step('create group label', () => api.GroupLabels.create(group.id, 'team', '#00ff00'));
const ms = await step('create milestone', () => api.ProjectMilestones.create(project.id, 'v1'));
const issue = await step('create issue', () =>
  api.Issues.create(project.id, 'First issue', { labels: 'bug,team', milestoneId: ms.id }));
await step('create note', () => api.IssueNotes.create(project.id, issue.iid, 'A comment'));
await step('list issues', async () => {
  const issues = await api.Issues.all({ projectId: project.id, labels: 'bug' });
  if (issues.length !== 1) throw new Error(`issues: ${issues.length}`);
});
await step('list group issues', () => api.Issues.all({ groupId: group.id }));
await step('edit issue', () => api.Issues.edit(project.id, issue.iid, { title: 'Renamed', stateEvent: 'close' }));
await step('show issue', async () => {
  const again = await api.Issues.show(issue.iid, { projectId: project.id });
  if (again.title !== 'Renamed' || again.state !== 'closed') throw new Error(JSON.stringify(again));
});
await step('milestone issues', () => api.ProjectMilestones.allAssignedIssues(project.id, ms.id));
await step('edit project', () => api.Projects.edit(project.id, { description: 'edited' }));
await step('remove note', async () => {
  const notes = await api.IssueNotes.all(project.id, issue.iid);
  const mine = notes.find((n) => !n.system);
  await api.IssueNotes.remove(project.id, issue.iid, mine.id);
});
await step('remove label', () => api.ProjectLabels.remove(project.id, label.id));
await step('remove member', () => api.ProjectMembers.remove(project.id, users[0].id));
await step('remove issue', () => api.Issues.remove(project.id, issue.iid));
await step('remove milestone', () => api.ProjectMilestones.remove(project.id, ms.id));
console.log('done');
